/* reexports: the functions a unit's module block holds, wherever they were defined.
 *
 * `let yield = Picos.Fiber.yield` (Moonpool) or `include Other` leave no symbol for the
 * re-exported name: the unit's field just holds the other function's closure, copied at
 * initialisation from the other unit's block, or from a submodule block held there
 * (`Picos.Fiber.yield`: module_layout.h keeps that source). This
 * follows each field to the static closure it ends up holding, through chains of such
 * copies (at most REEXPORT_MAX_HOPS units), and reports the closure's code address.
 *
 * Invariants: only static closures are reported (a value computed at run time, or not a
 * closure, is nothing); a copy is only followed into a word that lies inside another
 * unit's module block (extent from its header); a closure reached inside another unit's
 * submodule block (`module F = Other.Sub` with a signature, `include Other` copying
 * Other.Sub) is reported with through_submodule set: the binary does not name the
 * submodule, so such a closure can be listed but never matched by depth alone.
 * The work is bounded (hops, nesting, a budget of fields scanned), whatever the code.
 */
#ifndef OCPREEMPT_REEXPORTS_H
#define OCPREEMPT_REEXPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"

#define REEXPORT_MAX_HOPS 8

struct reexported_closure {
    uint64_t block;           /* link-time address of the unit's own block */
    uint64_t block_size;      /* its fields, bytes */
    size_t field;             /* the field of that block */
    int depth;                /* that field's submodule depth in the unit */
    bool through_submodule;   /* found inside another unit's submodule block held there */
    uint64_t closure;         /* link-time address of the static closure */
    uint64_t code;            /* its function's code (the direct entry, not caml_curryN) */
};

/* Calls visit for every static closure reached from a field of the block `unit_symbol`
 * ("camlMoonpool"), its own functions included. Stops when visit returns non-zero.
 * 0, or -1 when the unit has no readable block or memory ran out. */
typedef int (*reexport_visit)(const struct reexported_closure *r, void *ctx);
int reexports_each(const struct elf_image *img, const char *unit_symbol, reexport_visit visit,
                   void *ctx);

/* The code address a static closure at link-time address `closure` calls, or 0 when the
 * word there is no closure. */
uint64_t reexports_closure_code(const struct elf_image *img, uint64_t closure);

#endif
