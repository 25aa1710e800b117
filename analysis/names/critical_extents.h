/* critical_extents: code during whose execution, callees included, a fiber must not be
 * preempted, resolved to code ranges of an executable.
 *
 * Entries are the built-in list below (Stdlib operations that call user code while the
 * library's own structure is in an intermediate state; docs/configuration.md gives the
 * reason for each) followed by the user's OCPREEMPT_CRITICAL entries:
 *  - a unit or library (`Stdlib__Hashtbl`, `Mylib`, `Mylib.Sched`): the code of every unit
 *    it covers (ocaml_units.h), from `caml<Unit>.code_begin` to `caml<Unit>.code_end`;
 *  - a function (`Mylib.Sched.run`, `Sched.run`): every code symbol
 *    `caml<Unit>.<fn>_<stamp>`, with <Unit> the path joined by "__" (dune wrapping) or,
 *    failing that, a shorter prefix of it (a submodule's functions carry their own name
 *    only).
 * Code inlined from an entry into another unit lies outside these ranges: the frame
 * tables' debuginfo names it (analysis/names/inline_chain.h), and critical_extents_of_defname
 * says which entry covers such a name.
 * Shared by the probe (which lists what each entry resolved to and what it could not find)
 * and the shim (whose stack walk asks critical_extents_find for every frame).
 * Invariants: addresses are link-time; ranges are sorted, disjoint (overlaps merged, the
 * earlier entry keeps the range) and read-only once resolved, so any thread may search them.
 */
#ifndef OCPREEMPT_CRITICAL_EXTENTS_H
#define OCPREEMPT_CRITICAL_EXTENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"

#define CRITICAL_ENTRY_MAX 96         /* built-in + user entries */

struct critical_builtin {
    const char *entry;
    const char *reason;               /* one line, for the probe */
};
extern const struct critical_builtin critical_builtins[];   /* ends with { NULL, NULL } */

struct extent_range {
    uint64_t start, end;              /* [start, end), link-time */
    uint32_t entry;                   /* index into extent_set.entry */
};

struct extent_entry {
    const char *name;                 /* as written (points into the caller's strings) */
    bool builtin;
    bool function_entry;              /* `Unit.fn` (else a unit or library entry) */
    size_t units;                     /* units covered (unit entries) */
    size_t functions;                 /* code symbols matched (function entries) */
};

struct extent_set {
    struct extent_range *ranges;
    size_t count;
    struct extent_entry entry[CRITICAL_ENTRY_MAX];
    size_t entry_count;
};

/* Resolves the built-in entries and then `user[0..user_count)` in img. An entry that
 * matches nothing is kept with units == functions == 0 (the probe names it). 0, or -1
 * with err set (out of memory, too many entries). */
int critical_extents_resolve(const struct elf_image *img, const char *const *user,
                             size_t user_count, struct extent_set *out,
                             struct analysis_error *err);

void critical_extents_free(struct extent_set *set);

/* The range holding link-time address pc, or NULL. Binary search; any context. */
const struct extent_range *critical_extents_find(const struct extent_set *set, uint64_t pc);

/* The entry covering code whose debuginfo item names `defname` (an OCaml path
 * `Unit.Sub.fn`, its first component the compilation unit: lambda/debuginfo.ml's scopes):
 * a unit entry covering that unit by ocaml_unit_coverage (the entry's path joined by "__",
 * as for ranges), or a function entry naming exactly this function, its module path
 * written with "." or dune's "__" (`Mylib.Sched.run` names `Mylib__Sched.run` and
 * `Mylib.Sched.run`). Local functions and closures of a critical function need no match of
 * their own: code inlined into its body carries the function's own item further down the
 * same chain. The entry index, or -1. Any context. */
int critical_extents_of_defname(const struct extent_set *set, const char *defname);

#endif
