/* runtime_hooks: our functions in the runtime's four hook slots, and their re-chaining.
 *
 *  - caml_domain_external_interrupt_hook: inject/hijack.c's hook, where requests are served;
 *  - caml_enter/leave_blocking_section_hook: request/blocking_hooks.c's, which park and
 *    wake quiet threads;
 *  - caml_minor_gc_end_hook (a timing hook, called on each domain's own thread after its
 *    minor collection): inject/self_clock.c's countdown.
 * The bodies belong to the stages above; they are handed down here once, at start-up
 * (constructor context), so that every thread that must re-chain them (the monitor at
 * each pass, the pthread_create wrapper, the pthread_mutex_* interposers) calls this unit
 * and never up into those stages. Each body calls the hook it displaced first
 * (runtime_hook_call_previous: systhreads' own, which hands the runtime lock over).
 *
 * Re-chaining: systhreads' initialisation replaces these slots without chaining ours;
 * runtime_hooks_rechain puts ours back, interrupt first, then enter before leave (an enter
 * hook of ours never marks a thread while the leave hook is not ours); a library that chained
 * ours below it is called once, and calls ours back only to find it already running
 * (runtime_hook_call_previous). Each replacement of
 * a blocking hook bumps runtime_hooks_blocking_epoch, so a mark made under the old hooks
 * (whose leave may have bypassed ours) is never trusted. Any thread: a few plain loads when
 * nothing was replaced.
 */
#ifndef OCPREEMPT_RUNTIME_HOOKS_H
#define OCPREEMPT_RUNTIME_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

enum runtime_hook {
    RUNTIME_HOOK_INTERRUPT,
    RUNTIME_HOOK_ENTER_BLOCKING,
    RUNTIME_HOOK_LEAVE_BLOCKING,
    RUNTIME_HOOK_MINOR_GC_END,
    RUNTIME_HOOK_COUNT
};

/* Puts `body` into the interrupt hook slot, chaining the one found. Constructor context. */
void runtime_hooks_install_interrupt(void (*body)(void));

/* Puts `enter` and `leave` into the blocking-section hook slots (a runtime without them:
 * nothing happens). Constructor context. */
void runtime_hooks_install_blocking(void (*enter)(void), void (*leave)(void));

/* Puts `body` into caml_minor_gc_end_hook, chaining the one found. Returns false where the
 * runtime has no such slot. Constructor context. */
bool runtime_hooks_install_minor_gc_end(void (*body)(void));

/* Our body's first step: calls the hook it displaced. Re-entered through that hook (a
 * library that chained ours the usual way, saving and calling it, and that our
 * re-chaining then put below ours: ocaml-boxroot does so with caml_minor_gc_end_hook),
 * it plays the part of the hook that library saved: it calls the hook displaced before
 * that one (systhreads', which hands the runtime lock over), and returns false: the body
 * returns at once, the outermost call runs it, once. Each hook of the chain is called
 * once per runtime call, none twice, none dropped (adversary, issue 20: mutual recursion
 * until SIGSEGV first, then a guard that dropped systhreads' own hook: "no domain lock
 * held"). The calling thread. */
bool runtime_hook_call_previous(enum runtime_hook which);

/* Does the runtime's slot hold our body now? Any thread: two loads. */
bool runtime_hook_is_ours(enum runtime_hook which);

/* Bumped at every (re)installation of the blocking-section hooks; starts at 1 (0 means
 * "not in a blocking section" to whoever stores it). Any thread. */
uint32_t runtime_hooks_blocking_epoch(void);

/* Re-installs every installed body whose slot someone replaced since (see above). */
void runtime_hooks_rechain(void);

#endif
