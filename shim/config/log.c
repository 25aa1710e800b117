/* log.c: one-line messages to stderr, and the opening policy for the shim's output files.
 *
 * Invariants:
 *  - every message is formatted into a LOG_LINE_MAX stack buffer and leaves in a single
 *    write(2): no malloc, no FILE*, no locks, so it is safe in a constructor and cannot
 *    deadlock against a program that holds the stdio lock;
 *  - a message is exactly one line: control characters become '?' (values from the
 *    environment end up in messages) and an over-long message is cut, ending in "...";
 *  - no write can raise SIGPIPE (write_without_sigpipe): a closed stderr pipe must not
 *    kill the program the shim is in;
 *  - errno is the same after a log call as before it (callers often log, then use errno);
 *  - the level is read with relaxed atomics: it is set once, before any thread the shim
 *    starts, and a stale read could at worst drop or print one extra message.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "ocpreempt: "
#define LOG_PREFIX_LEN (sizeof LOG_PREFIX - 1)

static _Atomic int current_level = LOG_WARN;

void log_set_level(enum log_level level)
{
    atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load_explicit(&current_level, memory_order_relaxed);
}

/* A write to a pipe whose reader has gone raises SIGPIPE, whose default action kills the
 * program: a diagnostic must never change the program's fate (docs/design.md). So SIGPIPE
 * is blocked in this thread around the write (the write then fails with EPIPE and the
 * signal stays pending for this thread), and a SIGPIPE that the write made pending is
 * consumed with a zero-timeout sigtimedwait before the mask is restored. One that was
 * already pending before (the program's own, e.g. it blocks SIGPIPE itself) is left alone:
 * it is not ours. pthread_sigmask, sigpending and sigtimedwait are async-signal-safe. */
static void write_without_sigpipe(int fd, const char *buf, size_t len)
{
    sigset_t pipe_only, saved, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    bool masked = pthread_sigmask(SIG_BLOCK, &pipe_only, &saved) == 0;
    bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    bool broken_pipe = false;
    while (len > 0) {
        ssize_t written = write(fd, buf, len);
        if (written < 0 && errno == EINTR)
            continue;
        broken_pipe = written < 0 && errno == EPIPE;
        if (written <= 0)
            break;   /* stderr is gone or full: there is nobody left to tell */
        buf += written;
        len -= (size_t)written;
    }
    if (!masked)
        return;
    if (broken_pipe && !was_pending) {
        static const struct timespec no_wait = {0, 0};
        while (sigtimedwait(&pipe_only, NULL, &no_wait) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

void log_write_all(int fd, const char *buf, size_t len)
{
    int saved_errno = errno;
    write_without_sigpipe(fd, buf, len);
    errno = saved_errno;
}

/* Replaces control characters in s[0..len) by '?': one message, one line. */
static void flatten(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            s[i] = '?';
    }
}

static void log_line(enum log_level needed, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    /* Message bytes that fit between the prefix and the final newline. */
    const size_t room = sizeof line - LOG_PREFIX_LEN - 1;
    int saved_errno = errno;
    size_t len;
    int n;

    if (log_get_level() < needed)
        return;
    memcpy(line, LOG_PREFIX, LOG_PREFIX_LEN);
    /* room + 1: vsnprintf counts its NUL, which the newline then replaces. */
    n = vsnprintf(line + LOG_PREFIX_LEN, room + 1, fmt, ap);
    if (n < 0) {
        len = 0;
    } else if ((size_t)n > room) {
        len = room;
        memcpy(line + LOG_PREFIX_LEN + room - 3, "...", 3);
    } else {
        len = (size_t)n;
    }
    flatten(line + LOG_PREFIX_LEN, len);
    line[LOG_PREFIX_LEN + len] = '\n';
    log_write_all(STDERR_FILENO, line, LOG_PREFIX_LEN + len + 1);
    errno = saved_errno;
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_WARN, fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_WARN, fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_INFO, fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(LOG_DEBUG, fmt, ap);
    va_end(ap);
}

/* ---- output files ----------------------------------------------------------------- */

/* Formats "PATH REASON" into err as one line. */
static void open_failed(char *err, size_t errlen, const char *path, const char *reason)
{
    int n;
    if (errlen == 0)
        return;
    n = snprintf(err, errlen, "%.200s %s", path, reason);
    flatten(err, n < 0 ? 0 : ((size_t)n < errlen ? (size_t)n : errlen - 1));
}

/* Why open(2) refused, in words that say what to do about it. */
static const char *open_errno_reason(int err)
{
    switch (err) {
    case ELOOP:
        return "is a symbolic link; ocpreempt does not write through links, "
               "give the real path";
    case ENXIO:   /* a FIFO with no reader, refused by O_NONBLOCK instead of blocking */
    case EISDIR:
        return "is not a regular file";
    case ENOENT:
        return "cannot be created: its directory does not exist";
    case EACCES:
    case EPERM:
        return "cannot be written: permission denied";
    default:
        return strerror(err);
    }
}

int log_open_output(const char *path, char *err, size_t errlen)
{
    struct stat st;
    /* O_APPEND and never O_TRUNC: every process of a run (children inherit the variable)
     * adds its lines to the same file; truncating would erase its siblings' lines.
     * O_NONBLOCK only so that opening a FIFO cannot hang the program; cleared below. */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
                        O_NONBLOCK, 0644);
    if (errlen > 0)
        err[0] = '\0';
    if (fd < 0) {
        open_failed(err, errlen, path, open_errno_reason(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        open_failed(err, errlen, path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        open_failed(err, errlen, path, "is not a regular file");
        close(fd);
        return -1;
    }
    /* A file someone else owns (e.g. planted in /tmp) is not ours to write into. */
    if (st.st_uid != geteuid()) {
        open_failed(err, errlen, path, "belongs to another user");
        close(fd);
        return -1;
    }
    if (fcntl(fd, F_SETFL, O_APPEND) != 0) {
        open_failed(err, errlen, path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
