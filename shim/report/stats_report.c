/* stats_report: see stats_report.h. The report is formatted into a static buffer (at exit
 * the heap may be in any state) and written with write(2); the hog sites it names were
 * resolved at start-up (hog_sites.h): nothing here allocates or parses. */
#include "stats_report.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache_store.h"
#include "fiber_report.h"
#include "hog_sites.h"
#include "log.h"
#include "report_out.h"
#include "shim_state.h"
#include "site_table.h"
#include "stall_report.h"
#include "stats.h"

static const char *const counter_names[STATS_COUNTER_COUNT] = {
#define COUNTER_NAME(name) #name,
    STATS_COUNTERS(COUNTER_NAME)
#undef COUNTER_NAME
};

/* The smallest latency a bucket holds, in microseconds. */
static uint64_t bucket_floor_us(size_t b)
{
    return b < LATENCY_LINEAR_US ? b : (uint64_t)1 << (b - LATENCY_LINEAR_US + 10);
}

/* ---- aggregation ----------------------------------------------------------------- */

struct summary {
    unsigned long counter[STATS_COUNTER_COUNT];
    uint64_t longest_run_ns, latency_max_ns, samples, hook_ns_mean, hook_ns_p50, hook_total_ns;
    uint64_t p50_us, p99_us, to_hook_p50_us, to_hook_p99_us;
    uint64_t decision_mean_ns, decision_max_ns, walk_frames_max;
    uint64_t preempted_runs, run_p50_ns, run_p99_ns;
};

/* Everything the report writes, in one place so that stats_prepare can fault its pages in
 * at start-up: at exit even a page fault is time other domains may spend on a runtime
 * being torn down. */
static struct {
    char text[64 * 1024];
    uint64_t hist[LATENCY_BUCKETS], to_hook[LATENCY_BUCKETS], hook_hist[HOOK_BUCKETS];
    uint64_t runs[RUN_BUCKETS];
    struct summary per_domain[STATS_MAX_DOMAINS];
    int ids[STATS_MAX_DOMAINS];
} report;

void stats_prepare(void)
{
    memset(&report, 0, sizeof report);
}

/* Adds histogram h (`buckets` of them) into sum; returns its number of samples. */
static uint64_t add_histogram(uint64_t *sum, const _Atomic uint32_t *h, size_t buckets)
{
    uint64_t n = 0;
    for (size_t i = 0; i < buckets; i++) {
        uint32_t v = atomic_load_explicit(&h[i], memory_order_relaxed);
        sum[i] += v;
        n += v;
    }
    return n;
}

/* The bucket holding quantile q of `total` samples (total > 0). */
static size_t quantile_bucket(const uint64_t *hist, size_t buckets, uint64_t total, double q)
{
    uint64_t rank = (uint64_t)(q * (double)(total - 1)), seen = 0;
    for (size_t i = 0; i < buckets; i++) {
        seen += hist[i];
        if (seen > rank)
            return i;
    }
    return buckets - 1;
}

static uint64_t percentile(const uint64_t *hist, uint64_t total, double q)
{
    return total ? bucket_floor_us(quantile_bucket(hist, LATENCY_BUCKETS, total, q)) : 0;
}

/* The preempted runs' p50 and p99 (bucket floors, stats.h). */
static void summarise_runs(const struct domain_stats *const *ds, size_t n, struct summary *out)
{
    uint64_t total = 0;
    memset(report.runs, 0, sizeof report.runs);
    for (size_t k = 0; k < n; k++)
        total += add_histogram(report.runs, ds[k]->preempted_run, RUN_BUCKETS);
    out->preempted_runs = total;
    if (!total)
        return;
    uint64_t q = shim_config.quantum_ns;
    out->run_p50_ns = stats_run_bucket_floor_ns(quantile_bucket(report.runs, RUN_BUCKETS, total, 0.50), q);
    out->run_p99_ns = stats_run_bucket_floor_ns(quantile_bucket(report.runs, RUN_BUCKETS, total, 0.99), q);
}

static void summarise(const struct domain_stats *const *ds, size_t n, struct summary *out)
{
    uint64_t *hist = report.hist, *to_hook = report.to_hook;
    memset(out, 0, sizeof *out);
    memset(report.hist, 0, sizeof report.hist);
    memset(report.to_hook, 0, sizeof report.to_hook);
    uint64_t max_ticks = 0, to_hook_samples = 0, decision_ticks = 0, decision_max = 0;
    for (size_t k = 0; k < n; k++) {
        decision_ticks += atomic_load(&ds[k]->decision_ticks);
        uint64_t dm = atomic_load(&ds[k]->decision_max_ticks);
        decision_max = dm > decision_max ? dm : decision_max;
        uint64_t wf = atomic_load(&ds[k]->walk_frames_max);
        out->walk_frames_max = wf > out->walk_frames_max ? wf : out->walk_frames_max;
        for (int c = 0; c < STATS_COUNTER_COUNT; c++)
            out->counter[c] += atomic_load(&ds[k]->counter[c]);
        uint64_t run = atomic_load(&ds[k]->longest_run_ns);
        if (run > out->longest_run_ns)
            out->longest_run_ns = run;
        uint64_t m = atomic_load(&ds[k]->latency_max_ticks);
        if (m > max_ticks)
            max_ticks = m;
        out->samples += add_histogram(hist, ds[k]->latency, LATENCY_BUCKETS);
        to_hook_samples += add_histogram(to_hook, ds[k]->to_hook, LATENCY_BUCKETS);
    }
    out->latency_max_ns = stats_ticks_to_ns(max_ticks);
    uint64_t hook_ticks = 0, hooks = 0, served_ticks = 0;
    uint64_t *hook_hist = report.hook_hist;
    memset(report.hook_hist, 0, sizeof report.hook_hist);
    for (size_t k = 0; k < n; k++) {
        hook_ticks += atomic_load(&ds[k]->hook_ticks);
        served_ticks += atomic_load(&ds[k]->hook_served_ticks);
        for (size_t i = 0; i < HOOK_BUCKETS; i++) {
            hook_hist[i] += atomic_load_explicit(&ds[k]->hook_hist[i], memory_order_relaxed);
            hooks += atomic_load_explicit(&ds[k]->hook_hist[i], memory_order_relaxed);
        }
    }
    out->hook_ns_mean = hooks ? stats_ticks_to_ns(hook_ticks) / hooks : 0;
    out->hook_total_ns = stats_ticks_to_ns(served_ticks);
    for (size_t i = 0, seen = 0; i < HOOK_BUCKETS && hooks; i++) {
        seen += hook_hist[i];
        if (seen * 2 >= hooks) {     /* the bucket's middle */
            out->hook_ns_p50 = stats_ticks_to_ns(i * HOOK_BUCKET_TICKS + HOOK_BUCKET_TICKS / 2);
            break;
        }
    }
    unsigned long decisions = out->counter[STAT_hook_calls];
    out->decision_mean_ns = decisions ? stats_ticks_to_ns(decision_ticks) / decisions : 0;
    out->decision_max_ns = stats_ticks_to_ns(decision_max);
    out->p50_us = percentile(hist, out->samples, 0.50);
    out->p99_us = percentile(hist, out->samples, 0.99);
    out->to_hook_p50_us = percentile(to_hook, to_hook_samples, 0.50);
    out->to_hook_p99_us = percentile(to_hook, to_hook_samples, 0.99);
    summarise_runs(ds, n, out);
}

/* ---- formatting -------------------------------------------------------------------- */


static void put_summary_text(struct report_out *o, const struct summary *s)
{
    for (int c = 0; c < STATS_COUNTER_COUNT; c++)
        report_put(o, " %s=%lu", counter_names[c], s->counter[c]);
    report_put(o, " latency_samples=%llu latency_p50_ns=%llu latency_p99_ns=%llu latency_max_ns=%llu"
           " longest_run_ns=%llu request_to_hook_p50_ns=%llu request_to_hook_p99_ns=%llu"
           " hook_ns_p50=%llu hook_ns_mean=%llu", (unsigned long long)s->samples,
        (unsigned long long)s->p50_us * 1000, (unsigned long long)s->p99_us * 1000,
        (unsigned long long)s->latency_max_ns, (unsigned long long)s->longest_run_ns,
        (unsigned long long)s->to_hook_p50_us * 1000, (unsigned long long)s->to_hook_p99_us * 1000,
        (unsigned long long)s->hook_ns_p50, (unsigned long long)s->hook_ns_mean);
    report_put(o, " decision_mean_ns=%llu decision_max_ns=%llu walk_frames_max=%llu hook_total_ns=%llu",
        (unsigned long long)s->decision_mean_ns, (unsigned long long)s->decision_max_ns,
        (unsigned long long)s->walk_frames_max, (unsigned long long)s->hook_total_ns);
    report_put(o, " preempted_runs=%llu preempted_run_p50_ns=%llu preempted_run_p99_ns=%llu",
        (unsigned long long)s->preempted_runs, (unsigned long long)s->run_p50_ns,
        (unsigned long long)s->run_p99_ns);
}

static void put_summary_json(struct report_out *o, const struct summary *s)
{
    for (int c = 0; c < STATS_COUNTER_COUNT; c++)
        report_put(o, "\"%s\":%lu,", counter_names[c], s->counter[c]);
    report_put(o, "\"latency_samples\":%llu,\"latency_p50_ns\":%llu,\"latency_p99_ns\":%llu,"
           "\"latency_max_ns\":%llu,\"longest_run_ns\":%llu,\"request_to_hook_p50_ns\":%llu,"
           "\"request_to_hook_p99_ns\":%llu,\"hook_ns_p50\":%llu,\"hook_ns_mean\":%llu",
        (unsigned long long)s->samples, (unsigned long long)s->p50_us * 1000,
        (unsigned long long)s->p99_us * 1000, (unsigned long long)s->latency_max_ns,
        (unsigned long long)s->longest_run_ns, (unsigned long long)s->to_hook_p50_us * 1000,
        (unsigned long long)s->to_hook_p99_us * 1000, (unsigned long long)s->hook_ns_p50,
        (unsigned long long)s->hook_ns_mean);
    report_put(o, ",\"decision_mean_ns\":%llu,\"decision_max_ns\":%llu,\"walk_frames_max\":%llu,"
           "\"hook_total_ns\":%llu",
        (unsigned long long)s->decision_mean_ns, (unsigned long long)s->decision_max_ns,
        (unsigned long long)s->walk_frames_max, (unsigned long long)s->hook_total_ns);
    report_put(o, ",\"preempted_runs\":%llu,\"preempted_run_p50_ns\":%llu,"
           "\"preempted_run_p99_ns\":%llu",
        (unsigned long long)s->preempted_runs, (unsigned long long)s->run_p50_ns,
        (unsigned long long)s->run_p99_ns);
}


#define TOP_SITES 10

static void report_text(struct report_out *o, const struct summary *total,
                        const struct summary *per_domain, const int *ids, size_t n,
                        const struct site_report *top, size_t ntop)
{
    report_put(o, "ocpreempt: stats:");
    put_summary_text(o, total);
    report_put(o, " monitor_cpu_ns=%llu\n", (unsigned long long)stats_monitor_cpu_ns());
    report_put(o, "ocpreempt: latency (request to stub entry): p50 %lluus, p99 %lluus, max %.1fus over "
           "%llu preemptions; longest run without yielding %.1fms\n",
        (unsigned long long)total->p50_us, (unsigned long long)total->p99_us,
        (double)total->latency_max_ns / 1000.0, (unsigned long long)total->samples,
        (double)total->longest_run_ns / 1e6);
    for (size_t k = 0; k < n; k++) {
        const struct summary *s = &per_domain[k];
        report_put(o, "ocpreempt: domain %d: requests %lu, preemptions %lu (poll %lu, alloc %lu), "
               "p99 %lluus, longest run %.1fms; skipped:", ids[k], s->counter[STAT_requests],
            s->counter[STAT_preemptions], s->counter[STAT_preempt_poll],
            s->counter[STAT_preempt_alloc], (unsigned long long)s->p99_us,
            (double)s->longest_run_ns / 1e6);
        int any = 0;
        for (int c = STAT_skip_main_fiber; c <= STAT_skip_switched; c++)
            if (s->counter[c]) {
                report_put(o, " %s %lu", counter_names[c] + 5, s->counter[c]);
                any = 1;
            }
        report_put(o, "%s\n", any ? "" : " none");
    }
    report_put(o, "ocpreempt: analysis cache: %s%s%s%s%s\n", cache_store_status_name(cache_store_status()),
        cache_store_why()[0] ? ": " : "", cache_store_why(),
        cache_store_path()[0] ? " at " : "", cache_store_path());
    if (ntop)
        report_put(o, "ocpreempt: top hog sites (where fibers were preempted):\n");
    for (size_t i = 0; i < ntop; i++)
        report_put(o, "ocpreempt: %8lu  %-5s  %s  %s\n", top[i].count,
            top[i].kind == SITE_ALLOC ? "alloc" : "poll", top[i].function, top[i].location);
    fiber_report_text(o);
    stall_report_text(o);
}

static void report_json(struct report_out *o, const struct summary *total,
                        const struct summary *per_domain, const int *ids, size_t n,
                        const struct site_report *top, size_t ntop)
{
    report_put(o, "{\"ocpreempt_stats\":{");
    put_summary_json(o, total);
    report_put(o, ",\"monitor_cpu_ns\":%llu", (unsigned long long)stats_monitor_cpu_ns());
    report_put(o, ",\"domains\":[");
    for (size_t k = 0; k < n; k++) {
        report_put(o, "%s{\"domain\":%d,", k ? "," : "", ids[k]);
        put_summary_json(o, &per_domain[k]);
        report_put(o, "}");
    }
    report_put(o, "],\"hog_sites\":[");
    for (size_t i = 0; i < ntop; i++) {
        report_put(o, "%s{\"count\":%lu,\"kind\":\"%s\",\"function\":", i ? "," : "", top[i].count,
            top[i].kind == SITE_ALLOC ? "alloc" : "poll");
        report_json_string(o, top[i].function);
        report_put(o, ",\"location\":");
        report_json_string(o, top[i].location);
        report_put(o, "}");
    }
    report_put(o, "]");
    fiber_report_json(o);
    report_put(o, ",");
    stall_report_json(o);
    report_put(o, ",\"analysis_cache\":{\"status\":");
    report_json_string(o, cache_store_status_name(cache_store_status()));
    report_put(o, ",\"why\":");
    report_json_string(o, cache_store_why());
    report_put(o, ",\"path\":");
    report_json_string(o, cache_store_path());
    report_put(o, "}}}\n");
}

void stats_report(void)
{
    if (!shim_config.stats)
        return;
    struct summary *per_domain = report.per_domain;
    int *ids = report.ids;
    const struct domain_stats *all[STATS_MAX_DOMAINS];
    size_t n = 0, touched = 0;
    /* Only the domains that recorded something (stats.h: stats_touched_mask). */
    for (int i = 0; i < STATS_MAX_DOMAINS; i++) {
        uint64_t word = atomic_load_explicit(&stats_touched_mask[i / 64], memory_order_relaxed);
        if (!(word & ((uint64_t)1 << (i % 64))))
            continue;
        all[touched++] = &domain_stats[i];
        if (!atomic_load(&domain_stats[i].used))
            continue;
        const struct domain_stats *one = &domain_stats[i];
        summarise(&one, 1, &per_domain[n]);
        ids[n++] = i;
    }
    struct summary total;
    summarise(all, touched, &total);
    struct site_report top[TOP_SITES];
    size_t ntop = hog_sites_top(top, TOP_SITES);

    struct report_out o = { report.text, sizeof report.text, 0 };
    if (shim_config.stats_format == STATS_JSON)
        report_json(&o, &total, per_domain, ids, n, top, ntop);
    else
        report_text(&o, &total, per_domain, ids, n, top, ntop);

    int fd = 2;
    if (shim_config.stats_path[0]) {
        char err[256];
        fd = log_open_output(shim_config.stats_path, err, sizeof err);
        if (fd < 0) {
            log_error("%s; stats go to stderr", err);
            fd = 2;
        }
    }
    log_write_all(fd, report.text, o.used);
    if (fd != 2)
        close(fd);
}
