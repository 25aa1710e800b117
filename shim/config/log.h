/* log: the shim's only way to speak. Formats into a stack buffer and write(2)s it to
 * stderr with the "ocpreempt: " prefix; never allocates, never uses stdio, caps each line.
 * Not for signal context (vsnprintf is not async-signal-safe in general).
 * Invariants: one call = one write(2) of exactly one line (control characters in the
 * message become '?', an over-long message is cut and ends in "..."), so lines from
 * several threads or processes sharing stderr do not interleave.
 * Also here: opening the files the shim writes (stats, trace), with the one policy for
 * them (append, never follow a symlink, never truncate, only regular files we own). */
#ifndef OCPREEMPT_LOG_H
#define OCPREEMPT_LOG_H

#include "config.h"

#define LOG_LINE_MAX 512              /* bytes per line, prefix and newline included */

/* The level starts as LOG_WARN; the shim sets it once from the configuration. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Printed whatever the level, unless OCPREEMPT_LOG=quiet: errors that disable the shim. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same threshold as log_error: the shim keeps running, but something is degraded. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes preformatted bytes to fd, retrying on EINTR/short writes. */
void log_write_all(int fd, const char *buf, size_t len);

/* Opens `path` for the stats or the trace: O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW|O_CLOEXEC,
 * mode 0644 before umask. Refuses a symlink, anything but a regular file (a FIFO is
 * refused without blocking) and a file owned by another user; never truncates, because
 * several processes of one run (fork/exec children inherit OCPREEMPT_TRACE) append to the
 * same file. Returns the fd, or -1 after writing one line to `err`. */
int log_open_output(const char *path, char *err, size_t errlen);

#endif
