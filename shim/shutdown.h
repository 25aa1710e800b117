/* shutdown: the engine goes quiet before the runtime's memory goes away.
 *
 * A process ends in one of two ways for the engine:
 *  - exit() without caml_shutdown (the default): the runtime's memory stays mapped until
 *    the process is gone; the at-exit handler stops requests and writes the reports;
 *  - caml_shutdown first (OCAMLRUNPARAM=c=1, whose exit path calls it before exit(); or a
 *    program embedding OCaml): it frees every runtime allocation (caml_stat_destroy_pool:
 *    domain states, fiber stacks, the allocator's own lists) while other domains may still
 *    run OCaml code. The engine must be quiet before that: a hook still deciding on another
 *    domain would walk freed stacks or grow one through the freed allocator, and the monitor
 *    would write a freed domain's young_limit.
 * The engine hears of caml_shutdown through the last libc call the runtime makes before
 * freeing: freelocale, called from caml_free_locale (the front interposes it; the call's
 * return address must lie in caml_free_locale, so nobody else's freelocale counts). Where
 * caml_free_locale is inlined into caml_shutdown (LTO) the caller is caml_shutdown; where
 * no such call exists the engine knows it at start-up and says so
 * (analysis/shutdown_notice.h), and then only the at-exit path remains.
 *
 * Invariant: once shutdown_quiesce returns, the monitor touches no domain, no thread is in
 * the interrupt hook's body and none enters it again (hook_gate_enter is false), so nothing
 * the engine does afterwards reads or allocates runtime memory. The hook publishes in_hook
 * and then reads shim_enabled; the quiescing thread clears shim_enabled and then reads every
 * in_hook; both seq_cst: either the hook sees the engine disabled, or the quiescing thread
 * sees it inside and waits for it to leave.
 * The wait is bounded (a thread stopped inside the hook by SIGSTOP must not hang the exit of
 * the others): past the bound the exit goes on, and says so in the debug log.
 */
#ifndef OCPREEMPT_SHUTDOWN_H
#define OCPREEMPT_SHUTDOWN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "shim_state.h"
#include "thread_registry.h"

/* The hook's body runs between these two: enter returns false when the engine is quiet (or
 * was never active), and then the body must not run; leave is called only after a true
 * enter. */
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

/* The at-exit handler and the freelocale notification (front_api.h) of the engine. */
void shutdown_at_exit(void);
void shutdown_before_freelocale(uintptr_t caller);

#endif
