/* thread_registry: see thread_registry.h. Also the engine's pthread_create (the front's
 * exported pthread_create forwards to it once the engine is active), which is how threads
 * other than the main one get registered before they run any OCaml code. */
#define _GNU_SOURCE
#include "thread_registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "hijack.h"
#include "runtime.h"
#include "shim_state.h"

struct thread_record thread_registry[THREAD_REGISTRY_MAX];
_Atomic int thread_registry_extent;
static __thread struct thread_record *self_record;

struct thread_record *thread_self(void) { return self_record; }

uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return timespec_ns(&ts);
}

uint64_t thread_cpu_ns(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0)
        return 0;
    return timespec_ns(&ts);
}

struct thread_record *thread_register_self(void)
{
    if (self_record)
        return self_record;
    for (int i = 0; i < THREAD_REGISTRY_MAX; i++) {
        struct thread_record *r = &thread_registry[i];
        int expected = 0;
        if (!atomic_compare_exchange_strong(&r->in_use, &expected, 2))
            continue;
        r->tid = (pid_t)syscall(SYS_gettid);
        if (pthread_getcpuclockid(pthread_self(), &r->cpu_clock) != 0)
            r->cpu_clock = CLOCK_THREAD_CPUTIME_ID;
        r->caml_state_slot = runtime_caml_state_slot();
        r->last_stack = NULL;
        r->stack_cpu_start_ns = 0;
        atomic_store(&r->want, 0);
        r->ocaml_mutexes_held = 0;
        r->unhandled_fiber = 0;
        atomic_store(&r->main_stack, NULL);
        self_record = r;
        int extent = atomic_load(&thread_registry_extent);
        while (extent < i + 1 &&
               !atomic_compare_exchange_weak(&thread_registry_extent, &extent, i + 1))
            ;
        atomic_store_explicit(&r->in_use, 1, memory_order_release);   /* now visible */
        return r;
    }
    return NULL;
}

void thread_unregister_self(void)
{
    struct thread_record *r = self_record;
    if (!r)
        return;
    self_record = NULL;
    r->caml_state_slot = NULL;
    atomic_store_explicit(&r->in_use, 0, memory_order_release);
}

/* In a child of fork() only the calling thread exists: forget the others, whose TLS
 * slots now describe nothing. */
void thread_registry_after_fork(void)
{
    for (int i = 0; i < THREAD_REGISTRY_MAX; i++) {
        struct thread_record *r = &thread_registry[i];
        if (r != self_record && atomic_load(&r->in_use)) {
            r->caml_state_slot = NULL;
            atomic_store(&r->in_use, 0);
        }
    }
    if (self_record) {
        pthread_getcpuclockid(pthread_self(), &self_record->cpu_clock);
        self_record->tid = (pid_t)syscall(SYS_gettid);
    }
}

/* ---- pthread_create interposer ---------------------------------------------------- */

struct start_trampoline {
    void *(*start)(void *);
    void *arg;
};

static void unregister_at_exit(void *unused) { thread_unregister_self(); }

static void *registered_start(void *p)
{
    struct start_trampoline t = *(struct start_trampoline *)p;
    free(p);
    if (shim_active())
        thread_register_self();
    void *ret;
    pthread_cleanup_push(unregister_at_exit, NULL);
    ret = t.start(t.arg);
    pthread_cleanup_pop(1);
    return ret;
}

/* libc's, as the front found it (front_api.h). */
static pthread_create_fn real_pthread_create(void) { return engine_libc.pthread_create; }

/* For the shim's own threads, which must not be registered. */
int ocpreempt_real_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                  void *(*start)(void *), void *arg)
{
    pthread_create_fn real = real_pthread_create();
    return real ? real(thread, attr, start, arg) : EAGAIN;
}

int thread_registry_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                   void *(*start)(void *), void *arg)
{
    pthread_create_fn real = real_pthread_create();
    if (!real)
        return EAGAIN;
    if (!shim_active())
        return real(thread, attr, start, arg);
    /* Thread and Domain initialisation replace the interrupt hook before they create
       threads: re-chain it here (the monitor also checks, a period later). */
    hijack_reinstall_hook_if_replaced();
    struct start_trampoline *t = malloc(sizeof *t);
    if (!t)
        return real(thread, attr, start, arg);     /* unregistered: never preempted */
    t->start = start;
    t->arg = arg;
    int rc = real(thread, attr, registered_start, t);
    if (rc != 0)
        free(t);
    return rc;
}
