/* monitor: the request stage's thread, Go's sysmon for fibers. It decides *when* to look at
 * a thread; overdue.c decides what a look means and when the next one is due.
 *
 * It never wakes on a fixed period: each pass looks at the threads whose look is due, then
 * sleeps until the earliest next look plus that look's slack (so looks due close together
 * share one wake), on an absolute CLOCK_MONOTONIC deadline (base/doorbell.h: a futex, so
 * that it can be woken early). Its timer slack is set to min(quantum/64, 50 us), so the
 * kernel wakes it on time.
 * It looks only at OCaml threads (thread_registry.h: a record seen running OCaml, not
 * merely one with a domain state), so systhreads' tick thread and the domains' backup
 * threads, whose CPU time grows while their domain's fiber stays the same, cost nothing.
 * It is woken early by:
 *  - a thread that registers (it may start a fiber at once), or one seen running OCaml for
 *    the first time, if it sleeps beyond a quantum;
 *  - a backed-off (quiet) thread that runs again, if it sleeps beyond a quantum: seen when
 *    it leaves a blocking section (caml_leave_blocking_section_hook, chained like the
 *    interrupt hook) or gets the runtime lock back from systhreads' interrupt hook (which
 *    ours calls first, hijack.c).
 * So a thread that starts running again is looked at within a quantum of leaving its
 * blocking section (or of registering); one that resumes any other way (without entering
 * the runtime's blocking section) within the back-off bound, max(50 ms, quantum). A thread
 * inside a blocking section is parked: looked at every LOOK_PARKED_NS only (see the
 * blocking-section hooks, blocking_hooks.c), so a program whose threads all block costs one
 * wake a second.
 *
 * Exit handshake (seq_cst): the exiting thread sets `stopping`, then waits until no pass is
 * in flight; a pass announces itself in `in_pass` and re-checks `stopping` first. So after
 * request_stop() returns the monitor touches no domain state again. Per-thread exits use
 * the registry's pin handshake (thread_registry.h).
 *
 * fork(): only the forking thread survives, whatever the monitor was doing at that instant;
 * the child resets every flag the parent's monitor may have left set (a pass in flight, a
 * pinned record) and starts a monitor of its own.
 *
 * Its own cost (the stats' monitor_cpu_ns): the monitor is named "ocpreempt-mon" (so that
 * /proc/<pid>/task/<tid>/comm finds it) and publishes its CPU clock when it starts; before
 * it returns it stores its final CPU time, then marks itself gone. A reader whose clock read
 * fails (the thread has ended) therefore finds the final figure already stored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "doorbell.h"
#include "fiber_accounts.h"
#include "request.h"
#include "runtime_hooks.h"
#include "shim_state.h"
#include "stats.h"

static _Atomic int stopping, in_pass;

/* The monitor's own CPU clock (request_monitor_cpu_ns). */
enum monitor_clock_state { CLOCK_NONE, CLOCK_PUBLISHED, CLOCK_FINAL };
static _Atomic int monitor_clock_state;
static clockid_t monitor_clock;
static _Atomic uint64_t monitor_final_cpu_ns;

static uint64_t ns_of_timespec(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* ---- one pass ---------------------------------------------------------------------------- */

/* When is a look at t due? A record new to the monitor at once. A quiet thread that left a
 * blocking section since (it cleared backed_off): a quantum after the last look at it (a
 * fiber it switched to since cannot have used a quantum before), or when the run of the
 * fiber it ran at the last look that read its CPU clock could first reach the quantum (that
 * fiber may go on), whichever is first. Not at once: a thread that leaves blocking sections
 * thousands of times a second (a main fiber making small reads, which the monitor backs
 * off on, and parks when it finds it in one) then costs one wake per quantum, not one per
 * system call. */
static uint64_t look_due_at(struct thread_record *t)
{
    const struct look_state *l = &t->look;
    if (l->generation != atomic_load_explicit(&t->generation, memory_order_relaxed))
        return 0;
    if (atomic_load_explicit(&t->look_soon, memory_order_relaxed))
        return 0;                     /* its hook asked (request_look_soon) */
    uint64_t at = l->next_look_ns;
    if (l->quiet_looks > 0 && !atomic_load_explicit(&t->backed_off, memory_order_relaxed)) {
        uint64_t resumed = l->looked_ns + shim_config.quantum_ns;
        if (l->run_reaches_quantum_ns < resumed)
            resumed = l->run_reaches_quantum_ns;
        if (resumed < at)
            at = resumed;
    }
    return at;
}

/* Looks at every thread whose look is due; returns when the next pass should start. */
static uint64_t pass(void)
{
    uint64_t q = shim_config.quantum_ns;
    uint64_t now = monotonic_ns();
    uint64_t wake = now + (q > LOOK_PARKED_NS ? q : LOOK_PARKED_NS);
    atomic_store(&in_pass, 1);
    if (atomic_load(&stopping)) {
        atomic_store(&in_pass, 0);
        return wake;
    }
    int extent = atomic_load_explicit(&thread_registry_extent, memory_order_acquire);
    for (int i = 0; i < extent; i++) {
        struct thread_record *t = &thread_registry[i];
        if (atomic_load_explicit(&t->state, memory_order_relaxed) != RECORD_LIVE) {
            if (thread_record_pin_exited(t)) {    /* its last runs and verdicts */
                fiber_accounts_drain_exited(t, i);
                thread_record_release_exited(t);
            }
            continue;
        }
        if (!thread_record_runs_ocaml(t))      /* tick, backup or C thread: nothing to see */
            continue;
        bool due = look_due_at(t) <= now;
        if ((due || fiber_log_enabled) && thread_record_pin(t)) {
            if (due)
                overdue_look(t);
            fiber_accounts_drain(t, i);       /* per-fiber accounting: a few loads if off */
            thread_record_unpin();
        }
        uint64_t latest = t->look.next_look_ns + t->look.slack_ns;
        uint64_t due_at = look_due_at(t);
        if (due_at < t->look.next_look_ns)
            latest = due_at;               /* resumed: on time */
        if (latest < wake)
            wake = latest;
    }
    atomic_store(&in_pass, 0);
    return wake;
}

static void *monitor_main(void *unused)
{
    (void)unused;
    uint64_t slack = overdue_running_slack_ns();
    prctl(PR_SET_TIMERSLACK, slack > 1000 ? slack : 1000, 0, 0, 0);
    pthread_setname_np(pthread_self(), MONITOR_THREAD_NAME);
    if (pthread_getcpuclockid(pthread_self(), &monitor_clock) == 0)
        atomic_store(&monitor_clock_state, CLOCK_PUBLISHED);
    while (shim_active() && !atomic_load(&stopping)) {
        runtime_hooks_rechain();
        STAT_INC(stats_for_domain(0), monitor_wakes);
        fiber_accounts_note_wake(atomic_load_explicit(
            &stats_for_domain(0)->counter[STAT_monitor_wakes], memory_order_relaxed));
        doorbell_wait_until(pass());
    }
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        atomic_store(&monitor_final_cpu_ns, ns_of_timespec(&ts));
    atomic_store(&monitor_clock_state, CLOCK_FINAL);
    return NULL;
}

uint64_t request_monitor_cpu_ns(void)
{
    if (atomic_load(&monitor_clock_state) == CLOCK_PUBLISHED) {
        struct timespec ts;
        if (clock_gettime(monitor_clock, &ts) == 0)
            return ns_of_timespec(&ts);
        /* The thread has ended since: its final figure was stored before it returned. */
    }
    if (atomic_load(&monitor_clock_state) == CLOCK_FINAL)
        return atomic_load(&monitor_final_cpu_ns);
    return 0;        /* no monitor, or it has not run yet */
}

/* ---- start, stop, fork ------------------------------------------------------------------ */

/* The monitor must not be registered (it runs no OCaml) nor receive the program's signals. */
static int spawn_monitor(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    extern int ocpreempt_real_pthread_create(pthread_t *, const pthread_attr_t *,
                                             void *(*)(void *), void *);
    int rc = ocpreempt_real_pthread_create(&tid, &attr, monitor_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* In the child of fork(): the parent's monitor does not exist here, whatever it was doing
 * when the parent forked (in a pass: in_pass is 1 for good; looking at a record: it is
 * pinned for good). Nothing else runs yet, so plain resets are enough. */
static void restart_in_child(void)
{
    atomic_store(&in_pass, 0);
    atomic_store(&stopping, 0);
    atomic_store(&monitor_clock_state, CLOCK_NONE);    /* the parent's monitor's clock */
    doorbell_after_fork();
    thread_registry_after_fork();
    fiber_accounts_after_fork();
    if (shim_active())
        spawn_monitor();
}

int request_start(char *why, size_t why_len)
{
    pthread_atfork(NULL, NULL, restart_in_child);
    request_install_blocking_hooks();
    int rc = spawn_monitor();
    if (rc != 0) {
        snprintf(why, why_len, "cannot start the monitor thread: %s", strerror(rc));
        return -1;
    }
    return 0;
}

void request_stop(void)
{
    atomic_store(&shim_enabled, false);
    atomic_store(&stopping, 1);
    while (atomic_load(&in_pass))
        sched_yield();
}
