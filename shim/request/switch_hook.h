/* switch_hook: counting fiber switches exactly, by patching the runtime's switch routines.
 *
 * No field of OCaml 5.3's domain state counts switches: current_stack, exn_handler and a
 * stack's saved sp return to the same values after a yield and a resume from the same
 * place, so a monitor that only samples them cannot tell "the same fiber ran all along"
 * from "it yielded and was resumed in between" (docs/design.md, "Switch detection").
 *
 * A *switch* here is another fiber starting to run on the thread: caml_runstack (a new
 * fiber) or caml_resume of a fiber that is not the one the thread last switched to
 * (runtime/amd64.S). caml_perform and caml_reperform only leave a fiber for its handler;
 * if the handler resumes the same fiber (an effect answered at once, like a state or
 * logging effect) the fiber's run goes on, and if it resumes another, that resume is the
 * switch. So only the two routines that *start* a fiber running are hooked: at start-up,
 * before any OCaml code runs, their first instructions are moved into a trampoline near the
 * executable's code and replaced by a jump to it. The trampoline, on the switching thread,
 * compares the target fiber with its record's last_fiber and, if it differs (always, for
 * caml_runstack), stores it there, stores the TSC into switch_tsc and then increments
 * `switches` (thread_registry.h); it restores every register it used, runs the moved
 * instructions and jumps back. Flags are dead at these entries (they are called), and the
 * 24 bytes it pushes (32 with per-fiber accounting, which also logs the switch: fiber_log.h)
 * lie within the Stack_threshold every OCaml frame leaves below itself.
 * A thread without a record skips all of it.
 *
 * Only exact instruction sequences known from 5.3's amd64.S are moved (no decoder, nothing
 * RIP-relative); anything else leaves the code untouched and the hook unavailable. So does
 * a system that refuses the writes (no trampoline page, an executable mapping refused,
 * neither /proc/self/mem nor a read+write+execute mprotect allowed: code_patch.h).
 */
#ifndef OCPREEMPT_SWITCH_HOOK_H
#define OCPREEMPT_SWITCH_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "cache_file.h"
#include "elf_image.h"
#include "exe_memory.h"

/* Patches the two routines of the executable `img`. 0 with `report` saying how the code
 * was written ("through /proc/self/mem", ...), or -1 with `report` saying why not
 * (nothing patched then, and the code as executable as before: code_patch.h). Constructor
 * context, before any OCaml code runs. */
int switch_hook_install(const struct elf_image *img, char *report, size_t report_len);

/* The analysis cache (shim/base/cache_store.h): the routines' addresses switch_hook_install
 * located (relative to the load bias; 0 where it failed), and the install from them, every
 * address checked inside the executable's code and every prologue as above. */
void switch_hook_export(struct cache_builder *b);
int switch_hook_install_cached(const struct cache_view *v, const struct exe_memory *m,
                               char *report, size_t report_len);

/* Whether the switch counts come from the runtime's routines (true) or only from the
 * preemptions the hook injects itself (false). */
bool switch_hook_active(void);

#endif
