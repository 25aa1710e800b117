/* request: the overdue check shared by both request paths (see request.h).
 *
 * A fiber is identified by its domain's current_stack. It is overdue when the same stack
 * has been current at every sample for a quantum of the thread's CPU time (a thread blocked
 * in a system call accrues none, so it is never disturbed). The interrupt is the runtime's
 * own: requested_external_interrupt = 1, then young_limit = UINTNAT_MAX (release), exactly
 * as systhreads' tick thread does it from another thread. While the fiber stays overdue the
 * request is re-issued at every sample: the hook drops requests it cannot serve, and 5.3's
 * caml_reset_young_limit can overwrite a poisoned young_limit. */
#include "request.h"

#include <stdatomic.h>
#include <stdio.h>

#include "runtime.h"
#include "shim_state.h"
#include "stats.h"

void request_check_thread(struct thread_record *t, uint64_t cpu_ns, uint64_t now_ns)
{
    void **slot = t->caml_state_slot;
    void *ds = slot ? *(void *volatile *)slot : NULL;
    if (!ds) {                         /* not running OCaml (or released its domain) */
        t->last_stack = NULL;
        return;
    }
    void *stack = *(void *volatile *)DS(ds, current_stack);
    if (stack != t->last_stack) {
        t->last_stack = stack;
        t->stack_cpu_start_ns = cpu_ns;
        return;
    }
    if (cpu_ns - t->stack_cpu_start_ns < shim_config.quantum_ns)
        return;
    if (!atomic_exchange(&t->want, 1))
        atomic_store_explicit(&t->request_ns, now_ns, memory_order_relaxed);
    atomic_store_explicit(DS_ATOMIC(ds, requested_external_interrupt), 1, memory_order_release);
    atomic_store_explicit(DS_ATOMIC(ds, young_limit), UINTPTR_MAX, memory_order_release);
    STAT_INC(requests);
}

int monitor_start(char *why, size_t why_len);

int request_start(char *why, size_t why_len)
{
    if (shim_config.request == REQUEST_SIGNAL) {
        snprintf(why, why_len, "OCPREEMPT_REQUEST=signal is not implemented yet; use monitor");
        return -1;
    }
    return monitor_start(why, why_len);
}
