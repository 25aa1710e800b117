/* monitor: the request path. One thread wakes every quantum/2 (absolute deadlines, so
 * the period does not drift) and looks at each registered thread's current fiber and CPU
 * clock (overdue.c decides what a look means). Sampling at half the quantum bounds a fiber's
 * uninterrupted run by about one quantum plus one period.
 *
 * After fork() only the forking thread survives: the child starts a new monitor. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hijack.h"
#include "request.h"
#include "shim_state.h"

static uint64_t period_ns;

/* Exit handshake (seq_cst): the exiting thread sets `stopping`, then waits until no sample
 * is in flight; a sample announces itself in `sampling` and re-checks `stopping` first. So
 * after monitor_stop() returns the monitor touches no domain state again, even while the
 * runtime tears them down. */
static _Atomic int stopping, sampling;

static void monitor_stop(void)
{
    atomic_store(&stopping, 1);
    while (atomic_load(&sampling))
        sched_yield();
}

static void sample_all_threads(void)
{
    atomic_store(&sampling, 1);
    if (atomic_load(&stopping)) {
        atomic_store(&sampling, 0);
        return;
    }
    int extent = atomic_load_explicit(&thread_registry_extent, memory_order_acquire);
    for (int i = 0; i < extent; i++) {
        struct thread_record *t = &thread_registry[i];
        if (atomic_load_explicit(&t->in_use, memory_order_acquire) != 1)
            continue;
        request_check_thread(t, thread_cpu_ns(t->cpu_clock));
    }
    atomic_store(&sampling, 0);
}

static void advance(struct timespec *deadline)
{
    uint64_t ns = (uint64_t)deadline->tv_nsec + period_ns;
    deadline->tv_sec += (time_t)(ns / 1000000000u);
    deadline->tv_nsec = (long)(ns % 1000000000u);
}

static void *monitor_main(void *unused)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    while (shim_active() && !atomic_load(&stopping)) {
        advance(&deadline);
        int rc;
        do
            rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
        while (rc == EINTR);
        hijack_reinstall_hook_if_replaced();
        sample_all_threads();
    }
    return NULL;
}

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

/* Threads do not survive fork(): the child starts its own monitor. */
static void restart_in_child(void)
{
    thread_registry_after_fork();
    if (shim_active())
        spawn_monitor();
}

int request_start(char *why, size_t why_len)
{
    period_ns = shim_config.quantum_ns / 2;
    pthread_atfork(NULL, NULL, restart_in_child);
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
    monitor_stop();
}
