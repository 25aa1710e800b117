/* signal_safe: EVERYTHING IN THIS FILE RUNS IN SIGNAL CONTEXT (or may: the monitor thread
 * calls the same overdue check). Rules, enforced below by poisoning the usual suspects:
 *  - plain loads and stores, and lock-free atomics on naturally aligned words;
 *  - no malloc, no locks, no stdio, no OCaml runtime calls, no errno-clobbering calls
 *    (the handler saves and restores errno around clock_gettime);
 *  - state shared with other contexts is documented at its declaration
 *    (thread_registry.h for the records; signal_timer.c for the forwarding table).
 *
 * The overdue check: a fiber is identified by its domain's current_stack. It is overdue
 * when the same stack has been current at every sample for a quantum of the thread's CPU
 * time (a thread blocked in a system call accrues none, so it is never disturbed). The
 * interrupt is the runtime's own: requested_external_interrupt = 1, then young_limit =
 * UINTNAT_MAX (release), as systhreads' tick thread does from another thread. While the
 * fiber stays overdue the request is re-issued at every sample: the hook drops requests it
 * cannot serve, and 5.3's caml_reset_young_limit can overwrite a poisoned young_limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "request.h"
#include "runtime.h"
#include "shim_state.h"
#include "signal_timer.h"
#include "stats.h"

#define malloc  do_not_malloc_in_signal_context
#define calloc  do_not_calloc_in_signal_context
#define realloc do_not_realloc_in_signal_context
#define free    do_not_free_in_signal_context
#define printf  do_not_printf_in_signal_context
#define fprintf do_not_fprintf_in_signal_context
#define snprintf do_not_snprintf_in_signal_context
#define pthread_mutex_lock do_not_lock_in_signal_context

void request_check_thread(struct thread_record *t, uint64_t cpu_ns, uint64_t now_ns)
{
    void **slot = t->caml_state_slot;
    void *ds = slot ? *(void *volatile *)slot : NULL;
    if (!ds) {                         /* not running OCaml (or released its domain) */
        t->last_stack = NULL;
        return;
    }
    void *stack = *(void *volatile *)DS(ds, current_stack);
    /* A run ends when we preempted this fiber (the fibers that ran in between may have been
       too brief to be sampled): the next one starts at the preemption's CPU time, known
       exactly. A run also ends when the sampler sees another fiber; that one's start is
       only known to lie within the last period, and the sample time is used, so that a
       fiber is never preempted before it has run a whole quantum. */
    if (atomic_exchange_explicit(&t->preempted, 0, memory_order_acquire)) {
        t->last_stack = stack;
        t->stack_cpu_start_ns = t->preempted_cpu_ns;
    } else if (stack != t->last_stack) {
        t->last_stack = stack;
        t->stack_cpu_start_ns = cpu_ns;
        return;
    }
    uint64_t run = cpu_ns - t->stack_cpu_start_ns;
    struct domain_stats *st = stats_for_domain(*(volatile int *)DS(ds, id));
    stats_max(&st->longest_run_ns, run);
    if (run < shim_config.quantum_ns ||
        stack == atomic_load_explicit(&t->main_stack, memory_order_relaxed))
        return;
    if (!atomic_exchange(&t->want, 1))
        atomic_store_explicit(&t->request_tsc, stats_tsc(), memory_order_relaxed);
    atomic_store_explicit(DS_ATOMIC(ds, requested_external_interrupt), 1, memory_order_release);
    atomic_store_explicit(DS_ATOMIC(ds, young_limit), UINTPTR_MAX, memory_order_release);
    STAT_INC(st, requests);
}

/* Our timer's expiry: sample the interrupted thread itself. */
static void timer_tick(void)
{
    struct thread_record *t = thread_self();
    if (!t || !shim_active())
        return;
    struct timespec cpu, now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    clock_gettime(CLOCK_MONOTONIC, &now);
    request_check_thread(t, timespec_ns(&cpu), timespec_ns(&now));
}

/* Installed for OCPREEMPT_SIGNAL. A signal that is not our timer's goes to whatever the
 * program installed for it (the forwarding table), as if we were not there. */
void signal_timer_handler(int sig, siginfo_t *info, void *uctx)
{
    int saved_errno = errno;
    if (info && info->si_code == SI_TIMER && info->si_value.sival_ptr == SIGNAL_TIMER_COOKIE)
        timer_tick();
    else
        signal_forward(sig, info, uctx);
    errno = saved_errno;
}
