/* stats: see stats.h. The counters and the recording; the report that reads them at exit
 * is report/stats_report.c. */
#include "stats.h"

#include "clock.h"

struct domain_stats domain_stats[STATS_MAX_DOMAINS];
_Atomic uint64_t stats_touched_mask[STATS_MASK_WORDS];

static uint64_t start_tsc, start_ns;

void stats_start(void)
{
    start_tsc = stats_tsc();
    start_ns = monotonic_ns();
}

uint64_t stats_start_ns(void) { return start_ns; }
uint64_t stats_start_tsc(void) { return start_tsc; }

/* TSC ticks per microsecond, measured over the run so far (invariant TSC assumed). */
static double ticks_per_us(void)
{
    uint64_t dns = monotonic_ns() - start_ns;
    uint64_t dt = stats_tsc() - start_tsc;
    return dns ? (double)dt * 1000.0 / (double)dns : 0.0;
}

static size_t latency_bucket(uint64_t us)
{
    if (us < LATENCY_LINEAR_US)
        return (size_t)us;
    size_t log2 = 63 - (size_t)__builtin_clzll(us);            /* >= 10 */
    size_t b = LATENCY_LINEAR_US + (log2 - 10);
    return b < LATENCY_BUCKETS ? b : LATENCY_BUCKETS - 1;
}

uint64_t stats_ticks_to_ns(uint64_t ticks)
{
    double per_us = ticks_per_us();
    return per_us > 0 ? (uint64_t)((double)ticks * 1000.0 / per_us) : 0;
}

uint64_t stats_ns_to_ticks(uint64_t ns)
{
    return (uint64_t)((double)ns * ticks_per_us() / 1000.0);
}

void stats_record_hook(struct domain_stats *d, uint64_t ticks)
{
    uint64_t b = ticks / HOOK_BUCKET_TICKS;
    atomic_fetch_add_explicit(&d->hook_hist[b < HOOK_BUCKETS ? b : HOOK_BUCKETS - 1], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&d->hook_ticks, ticks, memory_order_relaxed);
}

void stats_record_hook_call(struct domain_stats *d, uint64_t ticks)
{
    atomic_fetch_add_explicit(&d->hook_served_ticks, ticks, memory_order_relaxed);
}

static _Atomic uint64_t monitor_cpu_ns;

void stats_note_monitor_cpu_ns(uint64_t ns) { atomic_store(&monitor_cpu_ns, ns); }
uint64_t stats_monitor_cpu_ns(void) { return atomic_load(&monitor_cpu_ns); }

void stats_record_to_hook(struct domain_stats *d, uint64_t ticks)
{
    uint64_t us = stats_ticks_to_ns(ticks) / 1000;
    atomic_fetch_add_explicit(&d->to_hook[latency_bucket(us)], 1, memory_order_relaxed);
}

void stats_record_preempted_run(struct domain_stats *d, uint64_t ticks, uint64_t quantum_ticks)
{
    if (quantum_ticks == 0)
        return;
    uint64_t b = ticks * 32 / quantum_ticks;
    if (b >= RUN_LINEAR_BUCKETS) {
        uint64_t quanta4 = ticks / (quantum_ticks * 4);        /* >= 1 */
        b = RUN_LINEAR_BUCKETS + (63 - (uint64_t)__builtin_clzll(quanta4));
        if (b >= RUN_BUCKETS)
            b = RUN_BUCKETS - 1;
    }
    atomic_fetch_add_explicit(&d->preempted_run[b], 1, memory_order_relaxed);
}

uint64_t stats_run_bucket_floor_ns(size_t b, uint64_t quantum_ns)
{
    if (b < RUN_LINEAR_BUCKETS)
        return quantum_ns * b / 32;
    return quantum_ns * 4 << (b - RUN_LINEAR_BUCKETS);
}

void stats_record_latency(struct domain_stats *d, uint64_t ticks)
{
    uint64_t us = stats_ticks_to_ns(ticks) / 1000;
    atomic_fetch_add_explicit(&d->latency[latency_bucket(us)], 1, memory_order_relaxed);
    stats_max(&d->latency_max_ticks, ticks);
}

void stats_record_decision(struct domain_stats *d, uint64_t ticks, uint64_t frames)
{
    atomic_fetch_add_explicit(&d->decision_ticks, ticks, memory_order_relaxed);
    stats_max(&d->decision_max_ticks, ticks);
    stats_max(&d->walk_frames_max, frames);
}
