/* code_owner: which unit's verdict applies to the code at a return address, for the
 * innermost-deny rule (docs/design.md, "Where a preemption may land").
 *
 * Code is *transparent* when it belongs to no scheduler or user unit of its own: the
 * Stdlib units (Stdlib, Stdlib__*, Camlinternal*), the compiler's and runtime's glue
 * (caml_curry*, caml_tuplify*, caml_apply*, caml_send*: the startup unit; caml_system),
 * Unix, and the general-purpose libraries the known schedulers call (code_owner.c).
 * A frame in transparent code takes the deny verdict of its nearest caller frame that is
 * not transparent: a List.cons called by Eio is inside Eio, one called by user code is
 * user code. Critical extents (a few Stdlib units among them) are checked separately and
 * refuse first.
 * Built once at start-up from the units' code_begin/code_end symbols, then read-only:
 * any thread may ask. Addresses are link-time.
 */
#ifndef OCPREEMPT_CODE_OWNER_H
#define OCPREEMPT_CODE_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache_file.h"
#include "elf_image.h"
#include "exe_memory.h"

enum code_owner {
    OWNER_PLAIN,          /* a unit that is neither denied nor transparent */
    OWNER_TRANSPARENT,    /* Stdlib or glue: the caller's verdict applies */
    OWNER_DENIED,         /* a deny-listed unit, or code of no known unit */
};

/* 0, or -1 with a one-line reason (out of memory). */
int code_owner_prepare(const struct elf_image *img, char *why, size_t why_len);

enum code_owner code_owner_of(uint64_t link_pc);

/* Is link_pc in Stdlib__Effect (Deep.match_with, continue, discontinue, Shallow.*)? That
 * unit is denied (a fiber must not stop inside it), but for naming who started a fiber
 * (fiber_starter.h) it is the mechanism, not the starter: its caller is. */
bool code_owner_in_effect_library(uint64_t link_pc);

/* The analysis cache (shim/base/cache_store.h): the ranges as prepared; restored only if
 * every range is inside the executable's code, sorted and disjoint, its owner known.
 * 0, or -1 with why. */
void code_owner_export(struct cache_builder *b);
int code_owner_restore(const struct cache_view *v, const struct exe_memory *m, char *why,
                       size_t why_len);

#endif
