/* thread_registry: every thread that may run OCaml code, and its preemption state.
 *
 * A fixed array of records (no allocation after start-up, so the monitor thread and the
 * hook may both touch it). A thread registers itself: the main thread from
 * the constructor, others from the pthread_create wrapper before the user's start routine.
 * Ownership of fields:
 *  - set once by the owning thread at registration: tid, cpu_clock, caml_state_slot;
 *  - monitor-private: last_stack, stack_cpu_start_ns;
 *  - request flag `want` and `request_tsc`: written by the requester, consumed and cleared
 *    by the owner's interrupt hook (atomics);
 *  - owner-private: ocaml_mutexes_held, unhandled_fiber.
 */
#ifndef OCPREEMPT_THREAD_REGISTRY_H
#define OCPREEMPT_THREAD_REGISTRY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define THREAD_REGISTRY_MAX 512

struct thread_record {
    _Atomic int in_use;
    pid_t tid;
    clockid_t cpu_clock;
    void **caml_state_slot;        /* this thread's `caml_state`; *slot NULL: no domain */

    void *last_stack;              /* monitor-private */
    uint64_t stack_cpu_start_ns;

    _Atomic int want;              /* a preemption is requested for this thread */
    _Atomic uint64_t request_tsc;  /* TSC at the (first) request, for latency stats */
    _Atomic int preempted;         /* set by the hook at injection: a new run starts, */
    uint64_t preempted_cpu_ns;     /* at this CPU time (written before `preempted`) */
    _Atomic(void *) main_stack;    /* set by the hook: the thread's main fiber, which is
                                      never preempted, so the sampler stops asking */

    int ocaml_mutexes_held;        /* owner-private: Mutex.t held by OCaml code */
    uint64_t unhandled_fiber;      /* owner-private: 1 + id of the fiber whose yield was
                                      unhandled; 0 none */
};

extern struct thread_record thread_registry[THREAD_REGISTRY_MAX];

/* 1 + the highest slot ever used: samplers scan only [0, thread_registry_extent). It only
 * grows and is raised right after a registration, so a new thread is seen by the next
 * sample at the latest; threads registered earlier are never missed. */
extern _Atomic int thread_registry_extent;

/* The calling thread's record, or NULL if it is not registered. */
struct thread_record *thread_self(void);

/* Registers the calling thread. Returns its record, or NULL when the registry is full. */
struct thread_record *thread_register_self(void);
void thread_unregister_self(void);
void thread_registry_after_fork(void);   /* in the child, before anything else */

/* pthread_create for the program (the front forwards to it): the new thread registers
 * itself before its start routine when the shim is active. */
int thread_registry_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                   void *(*start)(void *), void *arg);

static inline uint64_t timespec_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

uint64_t monotonic_ns(void);
uint64_t thread_cpu_ns(clockid_t clock);

#endif
