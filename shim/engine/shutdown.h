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
 * (analysis/code/shutdown_notice.h), and then only the at-exit path remains.
 *
 * Invariant: once the engine is quiesced (quiesce_and_report), the monitor touches no
 * domain, no thread is in the interrupt hook's body and none enters it again (the hook
 * gate, base/hook_gate.h), so nothing the engine does afterwards reads or allocates
 * runtime memory. The wait for the hooks to leave is bounded (a thread stopped inside the
 * hook by SIGSTOP must not hang the exit of the others): past the bound the exit goes on,
 * and says so in the debug log.
 */
#ifndef OCPREEMPT_SHUTDOWN_H
#define OCPREEMPT_SHUTDOWN_H

#include <stdint.h>

/* The at-exit handler and the freelocale notification (front_api.h) of the engine. */
void shutdown_at_exit(void);
void shutdown_before_freelocale(uintptr_t caller);

#endif
