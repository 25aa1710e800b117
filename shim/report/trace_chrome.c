/* trace_chrome: see trace_chrome.h. Timestamps are microseconds since the shim's start
 * (stats_start), from the TSC the switch trampoline and the hook recorded. */
#define _GNU_SOURCE
#include "trace_chrome.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fiber_accounts.h"
#include "fiber_report.h"
#include "hog_sites.h"
#include "log.h"
#include "site_table.h"
#include "stats.h"

static char path_template[4096];
static int trace_fd = -1;
static pid_t opened_by;

static struct {
    char text[64 * 1024];
    size_t used;
} out;

/* PATH with ".<pid>" before a ".json" suffix, else at the end. */
static int per_process_path(const char *path, pid_t pid, char *buf, size_t len)
{
    size_t n = strlen(path);
    int w;
    if (n > 5 && strcmp(path + n - 5, ".json") == 0)
        w = snprintf(buf, len, "%.*s.%d.json", (int)(n - 5), path, (int)pid);
    else
        w = snprintf(buf, len, "%s.%d", path, (int)pid);
    return w > 0 && (size_t)w < len ? 0 : -1;
}

static int open_for_this_process(char *why, size_t why_len)
{
    char path[4096], err[256];
    pid_t pid = getpid();
    if (per_process_path(path_template, pid, path, sizeof path) != 0) {
        snprintf(why, why_len, "OCPREEMPT_TRACE: the path is too long");
        return -1;
    }
    trace_fd = log_open_output(path, err, sizeof err);
    if (trace_fd < 0) {
        snprintf(why, why_len, "OCPREEMPT_TRACE: %s", err);
        return -1;
    }
    if (ftruncate(trace_fd, 0) != 0) {             /* this process's file alone */
        snprintf(why, why_len, "OCPREEMPT_TRACE: cannot empty %s", path);
        close(trace_fd);
        trace_fd = -1;
        return -1;
    }
    opened_by = pid;
    return 0;
}

int trace_chrome_open(const char *path, char *why, size_t why_len)
{
    snprintf(path_template, sizeof path_template, "%s", path);
    return open_for_this_process(why, why_len);
}

/* ---- output ------------------------------------------------------------------------------ */

static void flush(void)
{
    if (out.used)
        log_write_all(trace_fd, out.text, out.used);
    out.used = 0;
}

__attribute__((format(printf, 1, 2)))
static void put(const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(out.text + out.used, sizeof out.text - out.used, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof out.text - out.used) {
            out.used += (size_t)n;
            return;
        }
        flush();                   /* a record longer than the buffer is cut: never here */
    }
}

static void put_string(const char *s)
{
    put("\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            put("\\%c", c);
        else if (c < 0x20)
            put("\\u%04x", c);
        else
            put("%c", c);
    }
    put("\"");
}

/* ---- records ------------------------------------------------------------------------------ */

/* One calibration for the whole file (stats_ticks_to_ns recalibrates at each call), so
 * that a run's end and the next run's start, the same TSC, print the same. */
static uint64_t start_tsc;
static double ns_per_tick;

static uint64_t ns_of(uint64_t tsc)
{
    return tsc > start_tsc ? (uint64_t)((double)(tsc - start_tsc) * ns_per_tick) : 0;
}

static void put_us(uint64_t ns)
{
    put("%llu.%03llu", (unsigned long long)(ns / 1000), (unsigned long long)(ns % 1000));
}

static void put_ts(uint64_t tsc) { put_us(ns_of(tsc)); }

static void fiber_label(uint64_t id, uintptr_t name_hint, char *buf, size_t len)
{
    uintptr_t name = fiber_accounts_name_of(id);
    if (!name)
        name = name_hint;
    if (!name) {
        snprintf(buf, len, "fiber %llu", (unsigned long long)id);
        return;
    }
    const char *function, *location;
    fiber_report_name(name, &function, &location);
    snprintf(buf, len, "%s %s", function, location);
}

static void site_label(uintptr_t retaddr, char *buf, size_t len)
{
    struct site_report site;
    hog_sites_describe(retaddr, &site);
    if (strcmp(site.location, "?") == 0)
        snprintf(buf, len, "%s", site.function);
    else
        snprintf(buf, len, "%s %s", site.function, site.location);
}

/* Sort key: counters and thread names first (tid 0 and type), then by track and time. */
static bool before(const struct fiber_trace_record *a, const struct fiber_trace_record *b)
{
    if (a->tid != b->tid)
        return a->tid < b->tid;
    bool ma = a->type == FT_THREAD, mb = b->type == FT_THREAD;
    if (ma != mb)
        return ma;
    return a->t0 < b->t0;
}

static void sift_down(struct fiber_trace_record *r, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && before(&r[child], &r[child + 1]))
            child++;
        if (!before(&r[root], &r[child]))
            return;
        struct fiber_trace_record t = r[root];
        r[root] = r[child];
        r[child] = t;
        root = child;
    }
}

/* In place (the exit path allocates nothing). */
static void heap_sort(struct fiber_trace_record *r, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(r, i, n);
    for (size_t end = n; end-- > 1;) {
        struct fiber_trace_record t = r[0];
        r[0] = r[end];
        r[end] = t;
        sift_down(r, 0, end);
    }
}

static void put_record(const struct fiber_trace_record *r, pid_t pid)
{
    char label[256], where[256];
    switch (r->type) {
    case FT_THREAD:
        put(",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":",
            (int)pid, r->tid);
        if (r->domain >= 0)
            snprintf(label, sizeof label, "domain %d (thread %d)", r->domain, r->tid);
        else
            snprintf(label, sizeof label, "thread %d", r->tid);
        put_string(label);
        put("}}");
        break;
    case FT_SLICE:
        fiber_label(r->fiber, 0, label, sizeof label);
        put(",\n{\"ph\":\"X\",\"cat\":\"fiber\",\"name\":");
        put_string(label);
        put(",\"pid\":%d,\"tid\":%d,\"ts\":", (int)pid, r->tid);
        put_ts(r->t0);
        put(",\"dur\":");
        put_us(ns_of(r->t1) - ns_of(r->t0));
        put(",\"args\":{\"fiber\":%llu}}", (unsigned long long)r->fiber);
        break;
    case FT_INSTANT:
        fiber_label(r->fiber, r->name, label, sizeof label);
        site_label(r->site, where, sizeof where);
        put(",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"%s\",\"name\":\"%s\",\"pid\":%d,\"tid\":%d,"
            "\"ts\":", r->verdict == FIBER_EVENT_PREEMPTED ? "preemption" : "refusal",
            r->verdict == FIBER_EVENT_PREEMPTED ? "preempted" : "refused", (int)pid, r->tid);
        put_ts(r->t0);
        put(",\"args\":{\"fiber\":");
        put_string(label);
        put(",\"fiber_id\":%llu,\"site\":", (unsigned long long)r->fiber);
        put_string(where);
        put(",\"kind\":\"%s\",\"reason\":\"%s\"}}",
            r->site ? (r->kind == SITE_ALLOC ? "alloc" : "poll") : "none",
            fiber_report_refusal_name(r->verdict));
        break;
    case FT_COUNTER:
        put(",\n{\"ph\":\"C\",\"name\":\"monitor\",\"pid\":%d,\"tid\":0,\"ts\":", (int)pid);
        put_ts(r->t0);
        put(",\"args\":{\"wakes\":%llu}}", (unsigned long long)r->name);
        break;
    }
}

void trace_chrome_write(void)
{
    char why[512];
    if (trace_fd >= 0 && opened_by != getpid()) {     /* a child of fork(): its own file */
        close(trace_fd);
        trace_fd = -1;
    }
    if (trace_fd < 0 && (!path_template[0] || open_for_this_process(why, sizeof why) != 0))
        return;
    size_t n;
    unsigned long dropped;
    const struct fiber_trace_record *const_records = fiber_trace_records(&n, &dropped);
    struct fiber_trace_record *records = (struct fiber_trace_record *)const_records;
    start_tsc = stats_start_tsc();
    ns_per_tick = (double)stats_ticks_to_ns(1000000000ull) / 1e9;
    pid_t pid = getpid();
    if (records)
        heap_sort(records, n);
    put("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"ocpreempt\":\"chrome trace v1\","
        "\"records\":%zu,\"records_dropped\":%lu},\n\"traceEvents\":[\n", n, dropped);
    put("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":"
        "\"ocpreempt %d\"}}", (int)pid, (int)pid);
    for (size_t i = 0; i < n; i++)
        put_record(&records[i], pid);
    put("\n]}\n");
    flush();
    close(trace_fd);
    trace_fd = -1;
}
