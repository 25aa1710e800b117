/* hook_gate: the interrupt hook's body (inject/hijack.c) runs between hook_gate_enter and
 * hook_gate_leave, so that the engine can go quiet before the runtime frees its memory
 * (engine/shutdown.h says when).
 *
 * Invariant: once shim_enabled is false and every record's in_hook has been seen 0, no
 * thread is in the hook's body and none enters it again. The hook publishes in_hook and
 * then reads shim_enabled; the quiescing thread clears shim_enabled and then reads every
 * in_hook; both seq_cst: either the hook sees the engine disabled, or the quiescing thread
 * sees it inside and waits for it to leave. Both sides are plain atomics on the thread
 * record, which is why the gate lives at the bottom, beside it.
 */
#ifndef OCPREEMPT_HOOK_GATE_H
#define OCPREEMPT_HOOK_GATE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "shim_state.h"
#include "thread_registry.h"

/* enter returns false when the engine is quiet (or was never active), and then the body
 * must not run; leave is called only after a true enter. */
static inline bool hook_gate_enter(struct thread_record *t)
{
    atomic_store(&t->in_hook, 1);
    if (atomic_load(&shim_enabled))
        return true;
    atomic_store_explicit(&t->in_hook, 0, memory_order_release);
    return false;
}

static inline void hook_gate_leave(struct thread_record *t)
{
    atomic_store_explicit(&t->in_hook, 0, memory_order_release);
}

#endif
