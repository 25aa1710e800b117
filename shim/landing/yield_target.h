/* yield_target: the program's own yield closure, for the one candidate yield_report chose
 * (OCPREEMPT_YIELD=Module.fn, or a known scheduler's yield).
 *
 * The choice is made once at start-up from the binary (analysis/names/yield_report.c, the rule
 * the probe reports), which also says which field of the module block holds the closure.
 * At run time that field is read once the module has filled it, and believed only if it
 * holds a closure of the chosen code. The field's address (a GC root in static data) is
 * kept, not the closure, so a moving GC cannot leave us with a stale pointer.
 */
#ifndef OCPREEMPT_YIELD_TARGET_H
#define OCPREEMPT_YIELD_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ocaml_names.h"

/* Takes the chosen candidate (copied) and the path it was chosen for. 0, or -1 with a
 * one-line reason (no module block to read it from). */
int yield_target_prepare(const struct yield_candidate *chosen, const char *path, char *why,
                         size_t why_len);

/* The yield closure, or 0 while the defining module is not initialised yet. Hook context.
 * When the field the analysis named holds another function's closure once initialised
 * (`let yield = if c then Sched.pause else Picos.Fiber.yield`), 0 for good: the shim is
 * disabled with "yield X holds another function at run time: preemption off". */
uintptr_t yield_target_closure(void);

/* Is the run-time address `addr` in the code of the yield function? Its own safe points
 * are never preemption sites: `perform` allocates the continuation in the yield function
 * itself, and preempting there would nest a yield inside the yield. */
bool yield_target_contains(uintptr_t addr);

/* The resolved name, for messages. */
const char *yield_target_name(void);

/* The analysis cache's record (shim/base/cache_store.h): the candidate as prepared and
 * the path it was asked by. */
struct yield_cached {
    struct yield_candidate target;
    char name[OCAML_SYMBOL_MAX];
};
struct exe_memory;
void yield_target_export(struct yield_cached *out);
/* yield_target_prepare from a record, every field checked against the mapped executable.
 * 0, or -1 with why. */
int yield_target_restore(const struct yield_cached *c, const struct exe_memory *m, char *why,
                         size_t why_len);

#endif
