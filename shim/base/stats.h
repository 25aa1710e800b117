/* stats: what the shim did, per domain: the counters every stage writes, at the bottom so
 * that any stage may count; report/stats_report.h prints them once at exit when
 * OCPREEMPT_STATS is set.
 *
 * Storage is static (no allocation anywhere, so any thread may count without locks). Counters are
 * relaxed atomics indexed by domain id (ids past STATS_MAX_DOMAINS share the last slot).
 * Writers: the sampler (the monitor: requests, longest run), the interrupt hook
 * (everything else). The report runs at exit, after OCaml's own at_exit: it formats into
 * static storage and writes, and allocates, opens (but the OCPREEMPT_STATS file) and
 * parses nothing, since the heap may be exhausted and the runtime half torn down
 * (hog_sites.h).
 *
 * Contract the tests parse: the first line is `ocpreempt: stats: key=value ...` with the
 * totals (STATS_COUNTERS) and latency_p50_ns, latency_p99_ns, latency_max_ns,
 * latency_samples, longest_run_ns, request_to_hook_p50_ns, request_to_hook_p99_ns (the
 * part of the latency before the hook that injected; the rest is hook to stub entry),
 * hook_ns_p50 and hook_ns_mean (the mutator's time in the
 * hook per injected preemption, from after the previous hook to the injection),
 * preempted_runs, preempted_run_p50_ns and preempted_run_p99_ns (runs that ended in a
 * preemption, switch to hook, wall time; bucket floors, RUN_BUCKETS).
 * The shim's own cost: hook_total_ns, the hook's time summed over every call with a request
 * pending (hook_calls: injected, refused or no longer due), and monitor_cpu_ns, the monitor
 * thread's CPU time (its own clock, read at exit; 0 without a monitor).
 */
#ifndef OCPREEMPT_STATS_H
#define OCPREEMPT_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_MAX_DOMAINS 128
/* Latency histogram: 1 us buckets below 1024 us, then one bucket per power of two.
 * Reported percentiles are bucket floors: exact to 1 us below 1 ms, within 2x above. */
#define LATENCY_LINEAR_US 1024
#define LATENCY_BUCKETS (LATENCY_LINEAR_US + 40)
/* Runs that ended in a preemption, from the switch that began them to the hook that
 * injected (wall time, the TSC): a thirty-second of a quantum per bucket up to 4 quanta,
 * then one bucket per power of two (the last one open). */
#define RUN_LINEAR_BUCKETS 128
#define RUN_BUCKETS (RUN_LINEAR_BUCKETS + 8)
/* The hook's own time per injected preemption: 16 TSC ticks per bucket, the last one open. */
#define HOOK_BUCKET_TICKS 16
#define HOOK_BUCKETS 512

#define STATS_COUNTERS(X)                                                             \
    X(requests)            /* a fiber was found overdue and its domain interrupted */ \
    X(hook_calls)          /* our interrupt hook ran with a request pending */        \
    X(preemptions)         /* the stub was entered and called the yield closure */    \
    X(preempt_poll)                                                                   \
    X(preempt_alloc)                                                                  \
    X(skip_main_fiber)     /* no effect handler above: nothing to yield to */         \
    X(skip_not_safepoint)  /* interrupt taken outside an OCaml poll/alloc point */    \
    X(skip_denied)         /* site in a deny-listed module */                         \
    X(skip_extent)         /* a frame of the fiber is in a critical extent */        \
    X(skip_callback)       /* a C-to-OCaml callback runs on top of the fiber */       \
    X(skip_unwalkable)     /* a frame of the fiber has no descriptor: not walked */   \
    X(skip_site_policy)    /* allocation site left out by OCPREEMPT_SITES */          \
    X(skip_bad_shape)      /* site code not in the shape the stub resumes */          \
    X(skip_in_yield)       /* site inside the yield function itself */                \
    X(skip_mutex)          /* thread holds an OCaml Mutex.t */                        \
    X(skip_unhandled)      /* fiber whose yield was unhandled before */               \
    X(skip_heap_full)      /* allocation would need a GC first */                     \
    X(skip_memprof)        /* allocation would be sampled by memprof */               \
    X(skip_no_stack)       /* fiber stack could not grow for the stub frame */        \
    X(skip_not_ready)      /* yield closure or frame tables not ready yet */          \
    X(skip_switched)       /* the overdue fiber switched before the hook ran */       \
    X(unhandled)           /* Effect.Unhandled absorbed by the stub */                \
    X(threads_unregistered) /* threads never preempted: no record (domain 0's line) */ \
    X(monitor_wakes)       /* the monitor's passes (domain 0's line) */              \
    X(self_clock_trips)    /* hook calls at a self-clocked fiber's allocation trips */ \
    X(self_clock_preempt)  /* preemptions a fiber's own trip decided (not the monitor) */ \
    X(self_clock_cpu_defer) /* due by the TSC, not yet by CPU time: trip placed later */

enum stats_counter {
#define COUNTER_ENUM(name) STAT_##name,
    STATS_COUNTERS(COUNTER_ENUM)
#undef COUNTER_ENUM
    STATS_COUNTER_COUNT
};

struct domain_stats {
    _Atomic unsigned long counter[STATS_COUNTER_COUNT];
    _Atomic uint64_t longest_run_ns;
    _Atomic uint64_t latency_max_ticks;
    _Atomic uint64_t hook_ticks;        /* TSC in the hook for the preemptions it injected */
    _Atomic uint64_t hook_served_ticks; /* TSC in the hook for every call of hook_calls */
    _Atomic uint32_t hook_hist[HOOK_BUCKETS];   /* the same, per preemption: 16-tick buckets */
    _Atomic uint64_t decision_ticks;             /* landing_decide: total and worst, */
    _Atomic uint64_t decision_max_ticks;         /* in TSC ticks (one per hook call) */
    _Atomic uint64_t walk_frames_max;            /* deepest stack walk, in frames */
    _Atomic uint32_t latency[LATENCY_BUCKETS];   /* request to stub entry (see above) */
    _Atomic uint32_t to_hook[LATENCY_BUCKETS];   /* request to the hook that injected */
    _Atomic uint32_t preempted_run[RUN_BUCKETS]; /* run lengths (RUN_BUCKETS, above) */
    _Atomic int used;
};

extern struct domain_stats domain_stats[STATS_MAX_DOMAINS];

/* One bit per domain_stats entry that a writer has asked for (stats_for_domain). The
 * report reads only those entries: each is ~4 KiB, and touching all 128 at exit (page
 * faults on untouched zero pages) took ~100 us, time during which, with
 * OCAMLRUNPARAM=c=1, other domains run on a runtime that is being torn down. */
#define STATS_MASK_WORDS ((STATS_MAX_DOMAINS + 63) / 64)
extern _Atomic uint64_t stats_touched_mask[STATS_MASK_WORDS];

/* The entry of domain `id`, marked as touched. Lock-free; the load first keeps the shared
 * mask's cache line read-only once the domain is marked. */
static inline struct domain_stats *stats_for_domain(int id)
{
    if (id < 0 || id >= STATS_MAX_DOMAINS)
        id = STATS_MAX_DOMAINS - 1;
    uint64_t bit = (uint64_t)1 << (id % 64);
    if (!(atomic_load_explicit(&stats_touched_mask[id / 64], memory_order_relaxed) & bit))
        atomic_fetch_or_explicit(&stats_touched_mask[id / 64], bit, memory_order_relaxed);
    return &domain_stats[id];
}

/* Lock-free. */
static inline void stats_count(struct domain_stats *d, enum stats_counter c)
{
    atomic_store_explicit(&d->used, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&d->counter[c], 1, memory_order_relaxed);
}
#define STAT_INC(d, name) stats_count((d), STAT_##name)

static inline void stats_max(_Atomic uint64_t *slot, uint64_t v)
{
    uint64_t old = atomic_load_explicit(slot, memory_order_relaxed);
    while (v > old && !atomic_compare_exchange_weak_explicit(slot, &old, v,
                                                              memory_order_relaxed,
                                                              memory_order_relaxed))
        ;
}

static inline uint64_t stats_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Start-of-run calibration point for the TSC (constructor). */
void stats_start(void);

/* TSC ticks to nanoseconds, calibrated over the run so far; and the run's start time
 * (CLOCK_MONOTONIC ns). Not for signal context. */
uint64_t stats_ticks_to_ns(uint64_t ticks);
/* Nanoseconds to TSC ticks, by the same calibration (0 before any time has passed). */
uint64_t stats_ns_to_ticks(uint64_t ns);
uint64_t stats_start_ns(void);
uint64_t stats_start_tsc(void);      /* the TSC at that time */

/* Records the hook's time for one injected preemption, in TSC ticks. Hook context. */
void stats_record_hook(struct domain_stats *d, uint64_t ticks);
/* Records the cost of one landing decision (TSC ticks, frames walked). Hook context. */
void stats_record_decision(struct domain_stats *d, uint64_t ticks, uint64_t frames);

/* Records the hook's time for one call with a request pending (hook_calls), in TSC ticks.
 * Hook context. */
void stats_record_hook_call(struct domain_stats *d, uint64_t ticks);

/* The monitor thread's CPU time, noted once at exit (engine/shutdown.c) for the report. */
void stats_note_monitor_cpu_ns(uint64_t ns);
uint64_t stats_monitor_cpu_ns(void);

/* Records one request-to-hook delay (the hook that injects), in TSC ticks. Hook context. */
void stats_record_to_hook(struct domain_stats *d, uint64_t ticks);

/* Records the length of a run the hook is ending with a preemption, in TSC ticks, for a
 * quantum of quantum_ticks. Hook context. */
void stats_record_preempted_run(struct domain_stats *d, uint64_t ticks, uint64_t quantum_ticks);
/* Lower bound of run bucket b, in nanoseconds, for a quantum of quantum_ns. */
uint64_t stats_run_bucket_floor_ns(size_t b, uint64_t quantum_ns);

/* Records one request-to-stub latency, in TSC ticks. Hook context. */
void stats_record_latency(struct domain_stats *d, uint64_t ticks);

#endif
