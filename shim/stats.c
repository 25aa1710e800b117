/* stats: see stats.h. The report is formatted into a stack buffer (no allocation at exit,
 * where the heap may be in any state) and written with write(2). */
#include "stats.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "shim_state.h"

struct shim_stats shim_stats;

static size_t format_text(char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "ocpreempt: stats:");
#define FORMAT_COUNTER(name)                                                        \
    if (n < len)                                                                    \
        n += (size_t)snprintf(buf + n, len - n, " " #name "=%lu",                   \
                              atomic_load(&shim_stats.name));
    STATS_COUNTERS(FORMAT_COUNTER)
#undef FORMAT_COUNTER
    if (n < len)
        n += (size_t)snprintf(buf + n, len - n, "\n");
    return n < len ? n : len;
}

static size_t format_json(char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "{\"ocpreempt_stats\":{");
    const char *sep = "";
#define FORMAT_COUNTER(name)                                                        \
    if (n < len) {                                                                  \
        n += (size_t)snprintf(buf + n, len - n, "%s\"" #name "\":%lu", sep,         \
                              atomic_load(&shim_stats.name));                       \
        sep = ",";                                                                  \
    }
    STATS_COUNTERS(FORMAT_COUNTER)
#undef FORMAT_COUNTER
    if (n < len)
        n += (size_t)snprintf(buf + n, len - n, "}}\n");
    return n < len ? n : len;
}

void stats_report(void)
{
    if (!shim_config.stats)
        return;
    char buf[2048];
    size_t n = shim_config.stats_format == STATS_JSON ? format_json(buf, sizeof buf)
                                                      : format_text(buf, sizeof buf);
    int fd = 2;
    if (shim_config.stats_path[0]) {
        fd = open(shim_config.stats_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
                  0644);
        if (fd < 0) {
            log_error("cannot open OCPREEMPT_STATS file %s; stats go to stderr",
                      shim_config.stats_path);
            fd = 2;
        }
    }
    log_write_all(fd, buf, n);
    if (fd != 2)
        close(fd);
}
