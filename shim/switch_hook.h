/* switch_hook: counting fiber switches exactly, by patching the runtime's switch routines.
 *
 * No field of OCaml 5.3's domain state counts switches: current_stack, exn_handler and a
 * stack's saved sp return to the same values after a yield and a resume from the same
 * place, so a monitor that only samples them cannot tell "the same fiber ran all along"
 * from "it yielded and was resumed in between" (docs/design.md, "Switch detection").
 *
 * Every switch between fibers enters one of caml_perform, caml_reperform, caml_resume or
 * caml_runstack (runtime/amd64.S). At start-up, before any OCaml code runs, the first
 * instructions of each are moved into a trampoline near the executable's code and replaced
 * by a jump to it. The trampoline, on the switching thread, stores the TSC into its record's
 * switch_tsc and then increments its `switches` (thread_registry.h), restores every
 * register it used, runs the moved instructions and jumps back. Flags are dead at these
 * entries (they are called), and the 24 bytes it pushes lie within the Stack_threshold
 * every OCaml frame leaves below itself. A thread without a record skips the count.
 *
 * Only exact instruction sequences known from 5.3's amd64.S are moved (no decoder, nothing
 * RIP-relative); anything else leaves the code untouched and the hook unavailable.
 */
#ifndef OCPREEMPT_SWITCH_HOOK_H
#define OCPREEMPT_SWITCH_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "elf_image.h"

/* Patches the four routines of the executable `img`. 0, or -1 with a one-line reason
 * (nothing patched then). Constructor context, before any OCaml code runs. */
int switch_hook_install(const struct elf_image *img, char *why, size_t why_len);

/* Whether the switch counts come from the runtime's routines (true) or only from the
 * preemptions the hook injects itself (false). */
bool switch_hook_active(void);

#endif
