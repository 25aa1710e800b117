/* module_layout: the structure of one compilation unit's module block, read from the
 * binary without running it: which field holds which static value, and which fields were
 * copied into a submodule's block (so that `Miou.yield`, a toplevel function, can be told
 * from `Miou.Event.yield`, a function of submodule Event, although both are symbols
 * `camlMiou.yield_<stamp>`).
 *
 * Facts it relies on (OCaml 5.3 native code without flambda, checked on Miou, Eio, Picos
 * and the compiler's own testsuite): the block `caml<Unit>` is filled at run time by
 * `caml<Unit>.entry`, one `caml_initialize(&block[k], v)` per field, where v is a static
 * closure (`lea closure(%rip),%rsi`) or a computed value. Every value defined in a
 * submodule also gets a field of the unit's block; the submodule's own block is then
 * allocated (`lea 8(%r15),%reg`) and filled with copies of those fields
 * (`mov 8j(%base),%tmp ; mov %tmp,8i(%reg)`) before being stored in its own field.
 * With flambda (or OCaml 4) the block is static data and only direct fields are read.
 * A field may also be a copy of a word of another unit's module block (`let yield =
 * Other.yield`, `include Other`: `lea caml<Other>(%rip),%r ; mov 8k(%r),%rsi` before the
 * caml_initialize), or of a word of a submodule block held there (`let yield =
 * Other.Fiber.yield`: one more `mov 8j(%r),%r` per level); that source is kept for
 * analysis/names/reexports.c, with each field's word index in its submodule's block.
 *
 * Invariant: a field's depth is only claimed from a decoded copy; a field that no decoded
 * block copies is at depth 0 (toplevel). Unreadable code gives `decoded == false`, never a
 * guess.
 */
#ifndef OCPREEMPT_MODULE_LAYOUT_H
#define OCPREEMPT_MODULE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"

#define LAYOUT_MAX_LOADS 3

/* Where a field's value was loaded from: the static word `word` (another unit's block
 * field), then, for each of `nloads`, word load[i] / 8 of the block the previous one
 * holds. word == 0: not such a copy. */
struct field_source {
    uint64_t word;
    unsigned nloads;
    uint32_t load[LAYOUT_MAX_LOADS];
};

struct module_layout {
    uint64_t block;          /* link-time address of caml<Unit> */
    size_t nfields;          /* from the block's header */
    uint64_t *value;         /* per field: static value stored there (link-time), 0 unknown */
    long *parent;            /* per field: field of the submodule block it was copied into,
                                -1 when none */
    struct field_source *source; /* per field: the static words it was copied from */
    long *index;             /* per field with a parent: its word index in the parent's
                                submodule block, -1 unknown */
    bool decoded;            /* the initializer (or static data) was read */
};

/* Reads the layout of the unit whose module block symbol is `unit_symbol` ("camlMiou").
 * 0, or -1 when there is no such block (nothing allocated then). */
int module_layout_read(const struct elf_image *img, const char *unit_symbol,
                       struct module_layout *out);
void module_layout_free(struct module_layout *l);

/* Submodule depth of a field: 0 for a toplevel value, 1 for a field copied into a
 * submodule's block, 2 inside a submodule of a submodule... -1 for a bad field. */
int module_layout_depth(const struct module_layout *l, size_t field);

#endif
