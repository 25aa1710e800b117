/* refuse_mprotect: a preloaded library (test helper) that plays a restrictive security
 * policy: it refuses chosen mprotect, mmap and open requests with EACCES, as SELinux does.
 *
 * REFUSE_MPROTECT is a comma-separated list of rules (empty or unset: refuse nothing):
 *   rx2      the 2nd mprotect asking exactly read+execute (a policy allowing execmem but
 *            denying execmod: after the trampoline's, the request that returns a patched
 *            code page to read+execute)
 *   exec     every mprotect or mmap asking execute
 *   wx       every mprotect or mmap asking write and execute together
 *   all      every mprotect
 *   procmem  opening /proc/self/mem (or /proc/<pid>/mem)
 *   memwrite every pwrite to an open /proc/<pid>/mem (EIO: a kernel booted with
 *            proc_mem.force_override=never, which refuses writes to read-only pages)
 * Each refusal writes one line "refuse_mprotect: refused ..." to stderr; the constructor
 * writes "refuse_mprotect: rules=..." once, so a test can tell the library was loaded.
 *
 * Invariants: calls it does not refuse go to the kernel unchanged (raw system calls, so
 * no dlsym and no allocation); it sees only calls made through the dynamic symbol tables
 * (the shim's, the runtime's), not glibc's internal ones (thread stacks, ld.so).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool rule_rx2, rule_exec, rule_wx, rule_all, rule_procmem, rule_memwrite;
static atomic_int rx_requests;
static atomic_int proc_mem_fd = -1;          /* the last /proc/<pid>/mem opened */

/* One line on stderr, one write(2). */
static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0 && write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
        return;
}

static bool has_rule(const char *rules, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = rules; (p = strstr(p, name)) != NULL; p += n)
        if ((p == rules || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

/* Reads the rules once, at the first interposed call or the constructor, whichever comes
 * first: the shim's constructor may run before this library's. */
static void load_rules(void)
{
    static atomic_bool loaded;
    if (atomic_exchange(&loaded, true))
        return;
    const char *rules = getenv("REFUSE_MPROTECT");
    rules = rules ? rules : "";
    rule_rx2 = has_rule(rules, "rx2");
    rule_exec = has_rule(rules, "exec");
    rule_wx = has_rule(rules, "wx");
    rule_all = has_rule(rules, "all");
    rule_procmem = has_rule(rules, "procmem");
    rule_memwrite = has_rule(rules, "memwrite");
    report("refuse_mprotect: rules=%s\n", rules);
}

__attribute__((constructor)) static void refuse_mprotect_init(void) { load_rules(); }

static void say(const char *call, const char *rule, unsigned long addr, unsigned long len,
                int prot)
{
    report("refuse_mprotect: refused %s(0x%lx, %lu, %c%c%c) by rule %s\n", call, addr, len,
           prot & PROT_READ ? 'r' : '-', prot & PROT_WRITE ? 'w' : '-',
           prot & PROT_EXEC ? 'x' : '-', rule);
}

/* The rule refusing (call, prot), or NULL. */
static const char *refusing(bool is_mprotect, int prot)
{
    load_rules();
    if (is_mprotect && rule_all)
        return "all";
    if ((prot & PROT_EXEC) && rule_exec)
        return "exec";
    if ((prot & PROT_EXEC) && (prot & PROT_WRITE) && rule_wx)
        return "wx";
    if (is_mprotect && prot == (PROT_READ | PROT_EXEC) && rule_rx2 &&
        atomic_fetch_add(&rx_requests, 1) + 1 == 2)
        return "rx2";
    return NULL;
}

int mprotect(void *addr, size_t len, int prot)
{
    const char *rule = refusing(true, prot);
    if (rule) {
        say("mprotect", rule, (unsigned long)addr, len, prot);
        errno = EACCES;
        return -1;
    }
    return (int)syscall(SYS_mprotect, addr, len, prot);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    const char *rule = refusing(false, prot);
    if (rule) {
        say("mmap", rule, (unsigned long)addr, len, prot);
        errno = EACCES;
        return MAP_FAILED;
    }
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));

/* /proc/self/mem or /proc/<digits>/mem */
static bool is_proc_mem(const char *path)
{
    if (strncmp(path, "/proc/", 6) != 0)
        return false;
    const char *p = path + 6;
    if (strncmp(p, "self/", 5) == 0)
        p += 5;
    else {
        const char *digits = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == digits || *p++ != '/')
            return false;
    }
    return strcmp(p, "mem") == 0;
}

/* open and openat: the mode argument exists only with O_CREAT or O_TMPFILE. */
#define MODE_ARG(flags)                                                               \
    ({                                                                                \
        mode_t mode_ = 0;                                                             \
        if ((flags) & (O_CREAT | __O_TMPFILE)) {                                      \
            va_list ap;                                                               \
            va_start(ap, flags);                                                      \
            mode_ = va_arg(ap, mode_t);                                               \
            va_end(ap);                                                               \
        }                                                                             \
        mode_;                                                                        \
    })

static int open_checked(int dirfd, const char *path, int flags, mode_t mode)
{
    load_rules();
    if (rule_procmem && is_proc_mem(path)) {
        report("refuse_mprotect: refused open(%s) by rule procmem\n", path);
        errno = EACCES;
        return -1;
    }
    int fd = (int)syscall(SYS_openat, dirfd, path, flags, mode);
    if (fd >= 0 && is_proc_mem(path))
        atomic_store(&proc_mem_fd, fd);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
    return open_checked(dirfd, path, flags, MODE_ARG(flags));
}
int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

int open(const char *path, int flags, ...)
{
    return open_checked(AT_FDCWD, path, flags, MODE_ARG(flags));
}
int open64(const char *path, int flags, ...) __attribute__((alias("open")));

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    load_rules();
    if (rule_memwrite && fd >= 0 && fd == atomic_load(&proc_mem_fd)) {
        report("refuse_mprotect: refused pwrite(/proc/self/mem, 0x%lx, %zu) by rule memwrite\n",
               (unsigned long)off, len);
        errno = EIO;
        return -1;
    }
    return (ssize_t)syscall(SYS_pwrite64, fd, buf, len, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off) __attribute__((alias("pwrite")));

int close(int fd)
{
    int open_mem = fd;
    atomic_compare_exchange_strong(&proc_mem_fd, &open_mem, -1);  /* fd numbers are reused */
    return (int)syscall(SYS_close, fd);
}
