/* yield_target: the program's own yield closure, found by name (OCPREEMPT_YIELD=Module.fn).
 *
 * At start-up the symbol table gives the candidate code symbols (names are ambiguous: a
 * nested `yield` shares the prefix). At run time, once the module is initialised, the
 * candidate whose code is held by a closure in a direct field of its module block is the
 * toplevel function: that decides for certain. The field's address (a GC root in static
 * data) is kept, not the closure, so a moving GC cannot leave us with a stale pointer.
 */
#ifndef OCPREEMPT_YIELD_TARGET_H
#define OCPREEMPT_YIELD_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"

/* Finds the candidates for `path`. 0, or -1 with a one-line reason (none, malformed). */
int yield_target_prepare(const struct elf_image *img, const char *path, char *why,
                         size_t why_len);

/* The yield closure, or 0 while the defining module is not initialised yet. Hook context. */
uintptr_t yield_target_closure(void);

/* Is the run-time address `addr` in the code of one of the candidates? Their own safe
 * points are never preemption sites: `perform` allocates the continuation in the yield
 * function itself, and preempting there would nest a yield inside the yield. */
bool yield_target_contains(uintptr_t addr);

/* The resolved name, for messages. */
const char *yield_target_name(void);

#endif
