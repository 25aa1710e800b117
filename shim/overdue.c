/* overdue: when is a fiber overdue, and how its domain is asked to yield.
 *
 * The policy of the request stage, in one place; the monitor (monitor.c) decides when to
 * look, this file decides what a look means. Runs on the monitor thread, never in signal
 * context and never on the mutator's own thread.
 *
 * A fiber is identified by its domain's current_stack. It is overdue when the same stack
 * has been current at every look for a quantum of the thread's CPU time (a thread blocked
 * in a system call accrues none, so it is never disturbed). The interrupt is the
 * runtime's own: requested_external_interrupt = 1, then young_limit = UINTNAT_MAX
 * (release), as systhreads' tick thread does from another thread. While the fiber stays
 * overdue the request is re-issued at every look: the hook drops requests it cannot
 * serve, and 5.3's caml_reset_young_limit can overwrite a poisoned young_limit.
 */
#include <stdatomic.h>

#include "request.h"
#include "runtime.h"
#include "shim_state.h"
#include "stats.h"

void request_issue(struct thread_record *t, void *ds)
{
    if (!atomic_exchange(&t->want, 1))
        atomic_store_explicit(&t->request_tsc, stats_tsc(), memory_order_relaxed);
    atomic_store_explicit(DS_ATOMIC(ds, requested_external_interrupt), 1, memory_order_release);
    atomic_store_explicit(DS_ATOMIC(ds, young_limit), UINTPTR_MAX, memory_order_release);
    STAT_INC(stats_for_domain(*(volatile int *)DS(ds, id)), requests);
}

void request_check_thread(struct thread_record *t, uint64_t cpu_ns)
{
    void **slot = t->caml_state_slot;
    void *ds = slot ? *(void *volatile *)slot : NULL;
    if (!ds) {                         /* not running OCaml (or released its domain) */
        t->last_stack = NULL;
        return;
    }
    void *stack = *(void *volatile *)DS(ds, current_stack);
    /* A run ends when we preempted this fiber (the fibers that ran in between may have been
       too brief to be seen): the next one starts at the preemption's CPU time, known
       exactly. A run also ends when the monitor sees another fiber; that one's start is
       only known to lie within the last period, and the look's time is used, so that a
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
    request_issue(t, ds);
}
