/* stats: counters of what the shim did, printed once at exit when OCPREEMPT_STATS is set.
 *
 * Counters are relaxed atomics, updated from the interrupt hook and the monitor thread
 * (never from signal context through this interface). The line printed at exit is the
 * contract the tests parse: `ocpreempt: stats: key=value ...`.
 */
#ifndef OCPREEMPT_STATS_H
#define OCPREEMPT_STATS_H

#include <stdatomic.h>

#define STATS_COUNTERS(X)                                                             \
    X(requests)            /* a fiber was found overdue and its domain interrupted */ \
    X(hook_calls)          /* our interrupt hook ran with a request pending */        \
    X(preemptions)         /* the yield closure was called by the stub */             \
    X(preempt_poll)                                                                   \
    X(preempt_alloc)                                                                  \
    X(skip_main_fiber)     /* no effect handler above: nothing to yield to */         \
    X(skip_not_safepoint)  /* interrupt taken outside an OCaml poll/alloc point */    \
    X(skip_denied)         /* site in a deny-listed module */                         \
    X(skip_bad_shape)      /* site code not in the shape the stub resumes */          \
    X(skip_mutex)          /* thread holds an OCaml Mutex.t */                        \
    X(skip_unhandled)      /* fiber whose yield was unhandled before */               \
    X(skip_heap_full)      /* allocation would need a GC first */                     \
    X(skip_memprof)        /* allocation would be sampled by memprof */               \
    X(skip_no_stack)       /* fiber stack could not grow for the stub frame */        \
    X(skip_not_ready)      /* yield closure or frame tables not ready yet */          \
    X(unhandled)           /* Effect.Unhandled absorbed by the stub */

struct shim_stats {
#define DECLARE_COUNTER(name) _Atomic unsigned long name;
    STATS_COUNTERS(DECLARE_COUNTER)
#undef DECLARE_COUNTER
};

extern struct shim_stats shim_stats;

#define STAT_INC(name) atomic_fetch_add_explicit(&shim_stats.name, 1, memory_order_relaxed)

/* Prints the stats line(s) to the configured destination. At-exit context. */
void stats_report(void);

#endif
