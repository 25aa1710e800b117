/* trace: see trace.h. the text format (the default, `ocpreempt-trace v2`): one tab-separated line per
 * preemption, written with write(2) on an O_APPEND descriptor so lines from several domains never interleave mid-line. */
#include "trace.h"

#include <stdio.h>
#include <unistd.h>

#include "debuginfo.h"
#include "log.h"
#include "runtime.h"
#include "shim_state.h"
#include "stats.h"
#include "thread_registry.h"
#include "trace_chrome.h"

static int trace_fd = -1;

int trace_open(char *why, size_t why_len)
{
    if (!shim_config.trace_path[0])
        return 0;
    if (shim_config.trace_format == TRACE_CHROME)      /* written at exit: trace_chrome.h */
        return trace_chrome_open(shim_config.trace_path, why, why_len);
    char err[256];
    trace_fd = log_open_output(shim_config.trace_path, err, sizeof err);
    if (trace_fd < 0) {
        snprintf(why, why_len, "OCPREEMPT_TRACE: %s", err);
        return -1;
    }
    static const char header[] = "# ocpreempt-trace v2\n";
    log_write_all(trace_fd, header, sizeof header - 1);
    return 0;
}

static int format_site(char *buf, size_t len, const struct safepoint *site)
{
    struct source_location loc;
    if (debuginfo_decode(site_table_debuginfo(site), &loc) == 0)
        return snprintf(buf, len, "%s %s:%d", loc.function, loc.file, loc.line);
    uintptr_t offset;
    const char *function = site_table_function_name(site_table_retaddr(site), &offset);
    return snprintf(buf, len, "%s+%#lx", function, (unsigned long)offset);
}

/* The nearest frame of the program's own code: the site itself when it is there, else the
 * call in that frame (its descriptor's debuginfo), else symbol+offset; "-" when the walk
 * found none (every frame Stdlib or glue: the fiber's starter decided). */
static int format_user_frame(char *buf, size_t len, const struct safepoint *site,
                             uintptr_t user_frame)
{
    if (!user_frame)
        return snprintf(buf, len, "-");
    if (user_frame == site_table_retaddr(site))
        return format_site(buf, len, site);
    struct source_location loc;
    if (site_table_call_location(user_frame, &loc) == 0)
        return snprintf(buf, len, "%s %s:%d", loc.function, loc.file, loc.line);
    uintptr_t offset;
    const char *function = site_table_function_name(user_frame, &offset);
    return snprintf(buf, len, "%s+%#lx", function, (unsigned long)offset);
}

void trace_preemption(int domain, const struct safepoint *site, uintptr_t user_frame,
                      uint64_t request_tsc)
{
    if (trace_fd < 0)
        return;
    uint64_t now = monotonic_ns(), tsc = stats_tsc();
    uint64_t latency = request_tsc && tsc > request_tsc ? stats_ticks_to_ns(tsc - request_tsc) : 0;
    char where[256], user[256], line[640];
    format_site(where, sizeof where, site);
    format_user_frame(user, sizeof user, site, user_frame);
    int n = snprintf(line, sizeof line, "%llu\t%d\t%s\t%llu\t%s\t%s\n",
                     (unsigned long long)(now - stats_start_ns()), domain,
                     site->kind == SITE_ALLOC ? "alloc" : "poll", (unsigned long long)latency,
                     where, user);
    if (n > 0)
        log_write_all(trace_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void trace_close(void)
{
    if (shim_config.trace_path[0] && shim_config.trace_format == TRACE_CHROME)
        trace_chrome_write();
    if (trace_fd >= 0)
        close(trace_fd);
    trace_fd = -1;
}
