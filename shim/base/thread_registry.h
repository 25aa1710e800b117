/* thread_registry: every thread that may run OCaml code, and its preemption state.
 *
 * A fixed array of records, static storage: a record is never unmapped, so the monitor may
 * read any of them at any time. A thread registers itself: the main thread from the
 * constructor, others from the pthread_create wrapper before the user's start routine.
 *
 * Life of a record (`state`): FREE -> CLAIMED (the registering thread fills it) -> LIVE ->
 * LEAVING (its thread is exiting) -> FREE, or, with per-fiber accounting on (a fiber log),
 * -> EXITED until the monitor has read the log's last entries (thread_record_pin_exited),
 * then FREE: a new thread claims a FREE record first, and an EXITED one only when none is
 * free (counted: thread_registry_reclaimed_unread), so that an exited thread's last runs
 * are not wiped by the next registration before they are read. Each registration bumps
 * `generation`, so whoever keeps private state about a record (the monitor) sees that it
 * now describes another thread and starts clean: a reused record carries nothing over.
 *
 * Exit handshake (thread_record_pin): the monitor announces the one record it is looking at
 * before it reads the thread's TLS (caml_state_slot) or writes its domain; an exiting thread
 * marks its record LEAVING, then waits until the monitor is not looking at it. Both sides
 * use seq_cst, so either the monitor sees LEAVING and skips the record, or the exiting
 * thread sees the pin and waits: the monitor never dereferences a dead thread's TLS.
 *
 * Which records are OCaml threads: a record counts as one (thread_record_runs_ocaml) only
 * once its thread has been seen running OCaml: a fiber switch counted by the switch
 * trampoline (switches != 0), our blocking-section hooks, our interrupt hook; or when it
 * is the main thread or was started at one of the runtime's OCaml thread entries
 * (caml_thread_start, domain_thread_func), which run OCaml from their first instructions.
 * A domain state in its `caml_state` is no evidence: systhreads' tick thread and every
 * domain's backup thread set theirs and never run OCaml. The monitor looks only at OCaml
 * threads, so the others cost it nothing.
 *
 * Ownership of fields:
 *  - set by the owning thread while CLAIMED: tid, cpu_clock, caml_state_slot, and the reset
 *    of every other field;
 *  - runs_ocaml: set (never cleared while LIVE) by the owner, or by the monitor when it
 *    sees switches != 0;
 *  - written by the owner at each fiber switch (switch_hook.c's trampolines, or the hook when
 *    the switch routines could not be hooked): last_fiber, switch_tsc, then switches;
 *  - the request (`want`, request_tsc, request_switches, request_stack): written by the
 *    requester (the monitor, with the record pinned), consumed by the owner's interrupt hook;
 *  - monitor-private: struct look_state (overdue.c);
 *  - written by the owner in the blocking-section hooks: blocking_epoch
 *    (request/blocking_hooks.c);
 *  - owner-private: ocaml_mutexes_held, unhandled_fiber, away_ticks, away_since_tsc,
 *    clock (self_clock_state); owner-written, monitor-read: clock_trip_tsc;
 *  - in_hook: written by the owner around the interrupt hook's body, read by the thread
 *    that quiesces the engine before the runtime frees its memory (hook_gate.h).
 */
#ifndef OCPREEMPT_THREAD_REGISTRY_H
#define OCPREEMPT_THREAD_REGISTRY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "clock.h"            /* monotonic_ns: most users of the registry read the clock */
#include "fiber_log.h"

#define THREAD_REGISTRY_MAX 512

enum record_state { RECORD_FREE, RECORD_LIVE, RECORD_CLAIMED, RECORD_LEAVING, RECORD_EXITED };

/* What the monitor remembers about a record between two looks (overdue.c). */
struct look_state {
    uint32_t generation;           /* of the registration these fields describe */
    bool have_cpu;                 /* last_cpu_ns/last_look_ns are valid */
    void *ds, *stack;              /* domain state and current_stack at the last look */
    uint64_t switches;             /* switch count at the last look */
    uint64_t run_cpu_start_ns;     /* CPU time (upper bound) at which the current run began */
    uint64_t last_cpu_ns;          /* CPU time at the last look */
    uint64_t last_look_ns;         /* CLOCK_MONOTONIC of the last look */
    uint64_t last_look_tsc;        /* and its TSC (self-clocked trips are stamped in TSC) */
    uint64_t looked_ns;            /* CLOCK_MONOTONIC of the last look of any kind (parked
                                      and back-off looks too) */
    uint64_t run_reaches_quantum_ns; /* the earliest its fiber's run could reach the quantum,
                                      as of the last look that read the CPU clock
                                      (UINT64_MAX: a main fiber, or no domain) */
    uint64_t refusals_seen;        /* t->refusals when the last request was issued */
    uint64_t next_look_ns;         /* when to look again (0: at the next pass) */
    uint64_t slack_ns;             /* how much later than next_look_ns is still fine */
    unsigned quiet_looks;          /* consecutive looks that found nothing running */
    /* request/stall_watch.c: an overdue run that no request could end */
    bool stall_requested;          /* the last look issued a request for this run */
    uint64_t stall_mark_cpu_ns;    /* CPU time at that look */
    unsigned long stall_preemptions_seen; /* its domain's preemptions then */
    uint64_t stall_stretch_ns;     /* CPU time of the current stretch in C (0: none) */
    size_t stall_slot;             /* its stall_stats.h slot */
    size_t stall_seen_slot;        /* the slot seen at the last request or look (0: none) */
    bool refused_streak;           /* the requests of this run are being refused: */
    int refused_reason;            /*   for this reason (a STAT_skip_* counter), */
    uint64_t refused_start_cpu_ns; /*   since the request at this CPU time */
    unsigned clocked_looks;        /* consecutive looks that found the run self-clocked */
};

/* The owner's self-clock (inject/self_clock.c): its view of the running fiber's run, and
 * its domain's allocation rate, from one trip to the next. Owner-private. */
struct self_clock_state {
    uint64_t switches;             /* t->switches when this run was first seen */
    void *stack;                   /* current_stack then */
    uint64_t run_start_tsc;        /* the run began at (the switch's TSC, or its first trip) */
    uint64_t away_at_start;        /* away_ticks then: time off OCaml since is not run time */
    uint64_t last_tsc;             /* TSC at the previous trip (0: none yet) */
    uintptr_t last_ptr;            /* young_ptr then */
    double bytes_per_tick;         /* smoothed allocation rate (0: unknown) */
    uint64_t run_cpu_start_ns;     /* upper bound of the run's start in CPU time ... */
    bool run_cpu_start_known;      /* ... once a due trip of this run computed it */
    uint64_t first_trip_cpu_ns;    /* the CPU clock at this run's first trip, if the last
                                      sample was stale then (0: not read) */
    uint64_t cpu_sample_ns;        /* the thread's CPU clock at a due trip ... */
    uint64_t cpu_sample_tsc;       /* ... and the TSC then (0: none yet) */
    uint64_t quantum_ticks;        /* the quantum in TSC ticks, recalibrated now and then */
    uint32_t trips_to_calibrate;
    uint32_t next_trip;            /* enum self_clock_next (inject/self_clock.h) */
    uint64_t minor_gcs_to_wait;    /* SELF_CLOCK_AFTER_MINOR_GCS: collections left to count
                                      (the minor-GC-end hook, this same thread) ... */
    uint64_t minor_gcs_counted;    /* ... of this many when placed */
};

struct thread_record {
    _Atomic int state;             /* enum record_state */
    _Atomic uint32_t generation;   /* bumped at each registration */
    pid_t tid;
    clockid_t cpu_clock;
    void **caml_state_slot;        /* this thread's `caml_state`; *slot NULL: no domain */

    _Atomic(void *) last_fiber;    /* the fiber (stack) the thread last switched to */
    _Atomic uint64_t switch_tsc;   /* TSC at the last switch */
    _Atomic uint64_t switches;     /* switches to another fiber (written after the TSC) */

    _Atomic int want;              /* a preemption is requested for this thread */
    _Atomic uint64_t request_tsc;  /* TSC at the (first) request, for latency stats */
    _Atomic uint64_t request_switches; /* the switch count and fiber the request was for: */
    _Atomic(void *) request_stack; /*   the hook drops it if the thread has switched since */
    _Atomic uint64_t refusals;     /* requests the hook refused (owner-written): the monitor
                                      retries an overdue run sooner after one (overdue.c) */
    _Atomic int last_refusal;      /* the STAT_skip_* counter of the last refusal, stored
                                      before refusals (owner-written; stall_watch.c) */
    _Atomic(void *) main_stack;    /* set by the hook: the thread's main fiber, which is
                                      never preempted, so the monitor stops asking; only
                                      a true main stack (a callback on a fiber is not),
                                      cleared if that address is seen as a fiber */
    _Atomic int look_soon;         /* set by the owner's hook, cleared by the monitor's
                                      look: look within a quantum (request_look_soon) */
    _Atomic int backed_off;        /* the monitor looks at this thread rarely (it was quiet):
                                      leaving a blocking section wakes the monitor */
    _Atomic uint32_t blocking_epoch; /* the owner is in a blocking section, entered through
                                      our hooks of that epoch (blocking_hooks.c);
                                      0: not */

    _Atomic int in_hook;           /* the owner is inside the hook's body (hook_gate.h) */
    _Atomic int runs_ocaml;        /* seen running OCaml (see above); 0: the monitor
                                      ignores the record */

    _Atomic uint64_t clock_trip_tsc; /* owner-written: TSC of its last self-clocked trip in a
                                      fiber's run (inject/self_clock.c); the monitor backs
                                      off while one is recent (request/overdue.c) */
    uint64_t away_ticks;           /* owner-private: TSC ticks spent in blocking sections or
                                      waiting for the runtime lock in systhreads' hook */
    uint64_t away_since_tsc;       /* owner-private: entered a blocking section at (0: not) */
    struct self_clock_state clock; /* owner-private (inject/self_clock.c) */

    int ocaml_mutexes_held;        /* owner-private: Mutex.t held by OCaml code */
    uint64_t unhandled_fiber;      /* owner-private: 1 + id of the fiber whose yield was
                                      unhandled; 0 none */

    struct fiber_log *fiber_log;   /* this slot's log (fiber_log.h), NULL when accounting
                                      is off; set while CLAIMED, read by the trampoline */

    struct look_state look;        /* monitor-private */
};

extern struct thread_record thread_registry[THREAD_REGISTRY_MAX];

/* 1 + the highest slot ever used: the monitor scans only [0, thread_registry_extent). It
 * only grows and is raised before a record becomes LIVE. */
extern _Atomic int thread_registry_extent;

/* The calling thread's record, or NULL if it is not registered. */
struct thread_record *thread_self(void);

/* Offset of the calling thread's record pointer from the thread pointer (%fs base): the
 * same in every thread (initial-exec TLS), so generated code can load it as %fs:offset. */
long thread_self_tp_offset(void);

/* Registers the calling thread; `runs_ocaml`: it is known to run OCaml (the main thread,
 * a thread started at a runtime OCaml entry). Returns its record, or NULL when the
 * registry is full (counted, and said once). */
struct thread_record *thread_register_self(bool runs_ocaml);
/* Unregisters it: returns once the monitor no longer looks at its record. */
void thread_unregister_self(void);
/* In the child of fork(), before anything else: only the calling thread survives. */
void thread_registry_after_fork(void);

/* Thread t (the caller, or NULL) is running OCaml now (a hook of ours runs on it): from now
 * on the monitor watches it; the first time, the monitor is woken to look within a
 * quantum. Two loads when already known. Not in signal context. */
void thread_note_runs_ocaml(struct thread_record *t);

/* Is t an OCaml thread (see above)? Monitor side, any time. */
static inline bool thread_record_runs_ocaml(const struct thread_record *t)
{
    return atomic_load_explicit(&t->runs_ocaml, memory_order_relaxed) ||
           atomic_load_explicit(&t->switches, memory_order_relaxed) != 0;
}

/* The monitor's side of the exit handshake: true if r is LIVE and now pinned (the monitor
 * may read its TLS and write its domain until thread_record_unpin); false: skip r. */
bool thread_record_pin(struct thread_record *r);
void thread_record_unpin(void);

/* Monitor: pins EXITED record r to read its fiber log (false: it is not EXITED, or was
 * reclaimed: skip it); thread_record_release_exited frees it and unpins. */
bool thread_record_pin_exited(struct thread_record *r);
void thread_record_release_exited(struct thread_record *r);

/* EXITED records a new thread had to take before the monitor read them (the registry
 * had no FREE one): their unread runs are lost to the per-fiber accounts. */
unsigned long thread_registry_reclaimed_unread(void);

/* Threads that will never be preempted because they have no record: created while the
 * shim was not active, or beyond THREAD_REGISTRY_MAX. Counted in the stats; said once
 * (thread_registry_report_unregistered, called when the shim becomes active, and at the
 * first thread the full registry refuses). */
unsigned long thread_registry_unregistered(void);
void thread_registry_report_unregistered(void);

/* pthread_create for the program (the front forwards to it): the new thread registers
 * itself before its start routine when the shim is active. */
int thread_registry_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                   void *(*start)(void *), void *arg);

#endif
