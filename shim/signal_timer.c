/* signal_timer: see signal_timer.h.
 *
 * The forwarding table holds the program's disposition for OCPREEMPT_SIGNAL. It is written
 * by the interposed sigaction() (any thread, program context) and read by the handler
 * (signal context): the handler pointer and flags are single words stored with release
 * and loaded with acquire; a program changing its handler while the signal is delivered
 * sees either the old or the new one, as with the kernel's own table. */
#define _GNU_SOURCE
#include "signal_timer.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "shim_state.h"

#define ALT_STACK_SIZE (64 * 1024)

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static _Atomic(void *) program_handler;      /* sa_handler / sa_sigaction of the program */
static _Atomic int program_flags;
static sigset_t program_mask;
static _Atomic bool intercepting;             /* our handler owns OCPREEMPT_SIGNAL */

static sigaction_fn real_sigaction(void)
{
    static sigaction_fn real;
    if (!real)
        real = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    return real;
}

/* ---- the program's view of its own disposition ----------------------------------- */

void signal_forward(int sig, siginfo_t *info, void *uctx)
{
    void *h = atomic_load_explicit(&program_handler, memory_order_acquire);
    int flags = atomic_load_explicit(&program_flags, memory_order_acquire);
    if (h == (void *)SIG_IGN)
        return;
    if (h == (void *)SIG_DFL) {
        /* Default action: the kernel's, for this one delivery. SIGURG's is to ignore. */
        if (sig == SIGURG || sig == SIGCHLD || sig == SIGWINCH)
            return;
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        real_sigaction()(sig, &dfl, NULL);
        raise(sig);
        return;
    }
    if (flags & SA_SIGINFO)
        ((void (*)(int, siginfo_t *, void *))h)(sig, info, uctx);
    else
        ((void (*)(int))h)(sig);
}

static void remember_program_action(const struct sigaction *act)
{
    program_mask = act->sa_mask;
    atomic_store_explicit(&program_flags, act->sa_flags, memory_order_release);
    void *h = (act->sa_flags & SA_SIGINFO) ? (void *)act->sa_sigaction : (void *)act->sa_handler;
    atomic_store_explicit(&program_handler, h, memory_order_release);
}

static void report_program_action(struct sigaction *old)
{
    memset(old, 0, sizeof *old);
    old->sa_mask = program_mask;
    old->sa_flags = atomic_load(&program_flags);
    void *h = atomic_load(&program_handler);
    if (old->sa_flags & SA_SIGINFO)
        old->sa_sigaction = (void (*)(int, siginfo_t *, void *))h;
    else
        old->sa_handler = (void (*)(int))h;
}

__attribute__((visibility("default")))
int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    sigaction_fn real = real_sigaction();
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    if (!atomic_load(&intercepting) || sig != shim_config.signal)
        return real(sig, act, old);
    if (old)
        report_program_action(old);
    if (act)
        remember_program_action(act);
    return 0;
}

__attribute__((visibility("default")))
sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    if (sigaction(sig, &act, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* ---- per-thread timers -------------------------------------------------------------- */

static int ensure_alt_stack(void)
{
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE))
        return 0;                                  /* the runtime's or the program's */
    void *mem = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mem == MAP_FAILED)
        return -1;
    stack_t ss = { .ss_sp = mem, .ss_size = ALT_STACK_SIZE, .ss_flags = 0 };
    return sigaltstack(&ss, NULL);
}

int signal_timer_thread_start(struct thread_record *t)
{
    if (ensure_alt_stack() != 0)
        return -1;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = shim_config.signal;
    sev.sigev_value.sival_ptr = SIGNAL_TIMER_COOKIE;
    sev._sigev_un._tid = t->tid;
    timer_t timer;
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &timer) != 0)
        return -1;
    uint64_t period = shim_config.quantum_ns / 2;
    struct itimerspec spec;
    spec.it_interval.tv_sec = (time_t)(period / 1000000000u);
    spec.it_interval.tv_nsec = (long)(period % 1000000000u);
    spec.it_value = spec.it_interval;
    if (timer_settime(timer, 0, &spec, NULL) != 0) {
        timer_delete(timer);
        return -1;
    }
    t->timer = timer;
    t->has_timer = 1;
    return 0;
}

void signal_timer_thread_stop(struct thread_record *t)
{
    if (t->has_timer) {
        t->has_timer = 0;
        timer_delete(t->timer);
    }
}

int signal_timer_start(char *why, size_t why_len)
{
    struct sigaction ours, previous;
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = signal_timer_handler;
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&ours.sa_mask);
    if (real_sigaction()(shim_config.signal, &ours, &previous) != 0) {
        snprintf(why, why_len, "cannot install a handler for signal %d: %s",
                 shim_config.signal, strerror(errno));
        return -1;
    }
    remember_program_action(&previous);
    atomic_store(&intercepting, true);
    struct thread_record *self = thread_self();
    if (self && signal_timer_thread_start(self) != 0) {
        snprintf(why, why_len, "cannot arm the CPU-time timer: %s", strerror(errno));
        return -1;
    }
    return 0;
}
