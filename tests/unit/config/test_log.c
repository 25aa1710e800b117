/* test_log: the shim's one-line messages and its output-file policy.
 *
 * Messages are captured by pointing fd 2 at a temporary file and reading it back, so the
 * tests see exactly the bytes a user would. Output-file subtests build each refused kind
 * of path (symlink, directory, FIFO, missing directory, another user's file) in a private
 * temporary directory.
 */
#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* ---- capturing stderr ------------------------------------------------------------- */

static char capture_path[] = "/tmp/ocpreempt-test-log.XXXXXX";
static int saved_stderr = -1;

static void capture_begin(void)
{
    int fd = mkstemp(capture_path);
    if (fd < 0) {
        perror("mkstemp");
        exit(2);
    }
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

/* Restores stderr and returns what was written (static buffer, NUL-terminated). */
static const char *capture_end(size_t *len)
{
    static char text[8192];
    size_t n = 0;
    ssize_t r;
    int fd;
    dup2(saved_stderr, 2);
    close(saved_stderr);
    fd = open(capture_path, O_RDONLY);
    while (fd >= 0 && n < sizeof text - 1 && (r = read(fd, text + n, sizeof text - 1 - n)) > 0)
        n += (size_t)r;
    if (fd >= 0)
        close(fd);
    unlink(capture_path);
    strcpy(capture_path, "/tmp/ocpreempt-test-log.XXXXXX");
    text[n] = '\0';
    if (len)
        *len = n;
    return text;
}

/* ---- messages --------------------------------------------------------------------- */

static void default_level(int argc, char **argv)
{
    CHECK_EQ(log_get_level(), LOG_WARN);
}

static void line_shape(int argc, char **argv)
{
    capture_begin();
    log_error("disabled: %s (%d)", "bad configuration", 2);
    CHECK_STR(capture_end(NULL), "ocpreempt: disabled: bad configuration (2)\n");
}

static void level_filter(int argc, char **argv)
{
    static const struct { enum log_level level; const char *expected; } cases[] = {
        { LOG_QUIET, "" },
        { LOG_WARN, "ocpreempt: e\nocpreempt: w\n" },
        { LOG_INFO, "ocpreempt: e\nocpreempt: w\nocpreempt: i\n" },
        { LOG_DEBUG, "ocpreempt: e\nocpreempt: w\nocpreempt: i\nocpreempt: d\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        log_set_level(cases[i].level);
        CHECK_EQ(log_get_level(), cases[i].level);
        capture_begin();
        log_error("e");
        log_warn("w");
        log_info("i");
        log_debug("d");
        CHECK_STR(capture_end(NULL), cases[i].expected);
    }
}

static void control_characters(int argc, char **argv)
{
    log_set_level(LOG_WARN);
    capture_begin();
    log_error("OCPREEMPT_TRACE=%s", "a\nb\tc\r\x7f" "d");
    CHECK_STR(capture_end(NULL), "ocpreempt: OCPREEMPT_TRACE=a?b?c??d\n");
}

static void long_line_cut(int argc, char **argv)
{
    char big[3 * LOG_LINE_MAX];
    size_t len;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_set_level(LOG_WARN);
    capture_begin();
    log_error("%s", big);
    const char *text = capture_end(&len);
    CHECK_EQ(len, LOG_LINE_MAX);
    CHECK(strncmp(text, "ocpreempt: xxx", 14) == 0);
    CHECK(strcmp(text + len - 4, "...\n") == 0);
    CHECK(strchr(text, '\n') == text + len - 1);
    /* One byte under the limit is not cut. */
    size_t fits = LOG_LINE_MAX - strlen("ocpreempt: ") - 1;
    big[fits] = '\0';
    capture_begin();
    log_error("%s", big);
    text = capture_end(&len);
    CHECK_EQ(len, LOG_LINE_MAX);
    CHECK(strstr(text, "...") == NULL);
}

static void errno_preserved(int argc, char **argv)
{
    log_set_level(LOG_DEBUG);
    capture_begin();
    errno = ERANGE;
    log_debug("x");
    CHECK_EQ(errno, ERANGE);
    log_error("%s", "y");
    CHECK_EQ(errno, ERANGE);
    capture_end(NULL);
}

static void write_all(int argc, char **argv)
{
    /* 1 MiB through a 64 KiB pipe: many partial transfers, all bytes must arrive. */
    static char big[1 << 20];
    int fds[2];
    size_t total = 0;
    ssize_t r;
    char buf[65536];
    memset(big, 'z', sizeof big);
    CHECK(pipe(fds) == 0);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        log_write_all(fds[1], big, sizeof big);
        _exit(0);
    }
    close(fds[1]);
    while ((r = read(fds[0], buf, sizeof buf)) > 0)
        total += (size_t)r;
    close(fds[0]);
    waitpid(child, NULL, 0);
    CHECK_EQ(total, sizeof big);
    /* A closed fd is given up on, not retried forever. */
    log_write_all(-1, "x", 1);
}

/* ---- output files ----------------------------------------------------------------- */

static char dir[] = "/tmp/ocpreempt-test-out.XXXXXX";

static void make_dir(void)
{
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

static void remove_dir(void)
{
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static const char *in_dir(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
    buf[n > 0 ? n : 0] = '\0';
    if (fd >= 0)
        close(fd);
}

/* Expects log_open_output to refuse `path` with exactly "<path> <reason>". */
static void expect_refused(const char *path, const char *reason)
{
    char err[512], expected[512];
    int fd = log_open_output(path, err, sizeof err);
    CHECK_EQ(fd, -1);
    if (fd >= 0)
        close(fd);
    snprintf(expected, sizeof expected, "%s %s", path, reason);
    CHECK_STR(err, expected);
}

static void output_creates_and_appends(int argc, char **argv)
{
    char err[512], content[256];
    struct stat st;
    make_dir();
    umask(022);
    int fd = log_open_output(in_dir("new.trace"), err, sizeof err);
    CHECK(fd >= 0);
    CHECK_STR(err, "");
    CHECK(fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK((fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK)) == O_APPEND);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    log_write_all(fd, "one\n", 4);
    close(fd);
    /* Opened again: appended, never truncated (a sibling process's lines survive). */
    fd = log_open_output(in_dir("new.trace"), err, sizeof err);
    CHECK(fd >= 0);
    log_write_all(fd, "two\n", 4);
    close(fd);
    read_file(in_dir("new.trace"), content, sizeof content);
    CHECK_STR(content, "one\ntwo\n");
    remove_dir();
}

static void output_refuses_links_and_specials(int argc, char **argv)
{
    char target[256], err[512];
    make_dir();
    snprintf(target, sizeof target, "%s", in_dir("real"));   /* in_dir: one buffer */
    close(open(target, O_CREAT | O_WRONLY, 0644));
    CHECK(symlink(target, in_dir("link")) == 0);
    expect_refused(in_dir("link"), "is a symbolic link; ocpreempt does not write through "
                                   "links, give the real path");
    snprintf(target, sizeof target, "%s", in_dir("nowhere"));   /* in_dir: one buffer */
    CHECK(symlink(target, in_dir("dangling")) == 0);
    expect_refused(in_dir("dangling"), "is a symbolic link; ocpreempt does not write "
                                       "through links, give the real path");
    /* The dangling link must not have been followed to create its target. */
    CHECK(access(in_dir("nowhere"), F_OK) != 0);
    CHECK(mkdir(in_dir("sub"), 0755) == 0);
    expect_refused(in_dir("sub"), "is not a regular file");
    expect_refused(in_dir("missing/x.trace"), "cannot be created: its directory does not "
                                              "exist");
    expect_refused("/dev/null", "is not a regular file");

    /* A FIFO without a reader: refused at once instead of blocking the program. */
    CHECK(mkfifo(in_dir("fifo"), 0600) == 0);
    time_t before = time(NULL);
    expect_refused(in_dir("fifo"), "is not a regular file");
    CHECK(time(NULL) - before < 2);
    /* With a reader the open succeeds, and the type check refuses it. */
    int reader = open(in_dir("fifo"), O_RDONLY | O_NONBLOCK);
    CHECK(reader >= 0);
    expect_refused(in_dir("fifo"), "is not a regular file");
    close(reader);
    /* Control characters in a path do not break the one-line error. */
    CHECK_EQ(log_open_output("/nonexistent-dir\n/x", err, sizeof err), -1);
    CHECK(strchr(err, '\n') == NULL);
    remove_dir();
}

static void output_refuses_other_owner(int argc, char **argv)
{
    if (geteuid() != 0)
        SKIP("needs root to give a file to another user");
    make_dir();
    close(open(in_dir("theirs"), O_CREAT | O_WRONLY, 0666));
    CHECK(chown(in_dir("theirs"), 65534, 65534) == 0);
    expect_refused(in_dir("theirs"), "belongs to another user");
    remove_dir();
}

static void output_permission_denied(int argc, char **argv)
{
    if (geteuid() == 0)
        SKIP("root bypasses permissions");
    make_dir();
    close(open(in_dir("ro"), O_CREAT | O_WRONLY, 0444));
    expect_refused(in_dir("ro"), "cannot be written: permission denied");
    remove_dir();
}

static const struct subtest tests[] = {
    { "default_level", default_level },
    { "line_shape", line_shape },
    { "level_filter", level_filter },
    { "control_characters", control_characters },
    { "long_line_cut", long_line_cut },
    { "errno_preserved", errno_preserved },
    { "write_all", write_all },
    { "output_creates_and_appends", output_creates_and_appends },
    { "output_refuses_links_and_specials", output_refuses_links_and_specials },
    { "output_refuses_other_owner", output_refuses_other_owner },
    { "output_permission_denied", output_permission_denied },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return run_subtests(argc, argv, tests);
}
