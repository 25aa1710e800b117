/* trace: see trace.h. One tab-separated line per preemption (docs/trace.md), written with
 * write(2) under O_APPEND so lines from several domains never interleave mid-line. */
#include "trace.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "runtime.h"
#include "shim_state.h"

static int trace_fd = -1;
static uint64_t start_ns;
static _Atomic unsigned long latency_count, latency_max, latency_sum;

int trace_open(char *why, size_t why_len)
{
    start_ns = monotonic_ns();
    if (!shim_config.trace_path[0])
        return 0;
    trace_fd = open(shim_config.trace_path,
                    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (trace_fd < 0) {
        snprintf(why, why_len, "OCPREEMPT_TRACE=%s: cannot open it for appending",
                 shim_config.trace_path);
        return -1;
    }
    static const char header[] = "# ocpreempt-trace v1\n";
    log_write_all(trace_fd, header, sizeof header - 1);
    return 0;
}

static void record_latency(uint64_t ns)
{
    atomic_fetch_add_explicit(&latency_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum, ns, memory_order_relaxed);
    unsigned long old = atomic_load_explicit(&latency_max, memory_order_relaxed);
    while (ns > old && !atomic_compare_exchange_weak(&latency_max, &old, ns))
        ;
}

void trace_preemption(struct thread_record *t, const struct safepoint *site)
{
    uint64_t now = monotonic_ns();
    uint64_t requested = atomic_load_explicit(&t->request_ns, memory_order_relaxed);
    uint64_t latency = requested && now > requested ? now - requested : 0;
    record_latency(latency);
    if (trace_fd < 0)
        return;
    char line[512];
    int n = snprintf(line, sizeof line, "%llu\t%d\t%s\t%llu\t%s+%#lx\n",
                     (unsigned long long)(now - start_ns), (int)t->tid,
                     site->kind == SITE_ALLOC ? "alloc" : "poll",
                     (unsigned long long)latency, site_table_function_name(site->retaddr),
                     (unsigned long)(site->retaddr - ocaml_rt.bias));
    if (n > 0)
        log_write_all(trace_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void trace_close(void)
{
    if (trace_fd >= 0)
        close(trace_fd);
    trace_fd = -1;
}

void trace_latency(unsigned long *count, unsigned long *max_ns, unsigned long *sum_ns)
{
    *count = atomic_load(&latency_count);
    *max_ns = atomic_load(&latency_max);
    *sum_ns = atomic_load(&latency_sum);
}
