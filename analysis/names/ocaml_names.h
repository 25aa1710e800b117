/* ocaml_names: from an OCaml path ("Sched.yield", "Eio.Fiber.yield",
 * "Dune__exe__Main.yield") to the native symbols that may implement it.
 *
 * OCaml 5 names a toplevel function `caml<Module>.<fn>_<stamp>` and the module block
 * `caml<Module>`, where <Module> is the compilation unit with wrapped-library paths joined by
 * "__" (Eio.Fiber -> Eio__Fiber, or Eio__core__Fiber under dune). Names are ambiguous (a
 * submodule's or a nested `yield` shares the prefix), so this returns every candidate with
 * its file:line and where it sits in the module block (module_layout.h); yield_report.c
 * decides between them, for the probe and the shim alike. Invariant: never picks one.
 */
#ifndef OCPREEMPT_OCAML_NAMES_H
#define OCPREEMPT_OCAML_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "elf_image.h"

#define OCAML_SYMBOL_MAX 256

struct yield_candidate {
    char code_symbol[OCAML_SYMBOL_MAX];   /* camlSched.yield_269 */
    uint64_t code_addr;                   /* link-time address of the code */
    uint64_t code_size;                   /* bytes, from the symbol (0 unknown) */
    char module_symbol[OCAML_SYMBOL_MAX]; /* camlSched */
    uint64_t module_block;                /* link-time address of the module block, 0 if none */
    uint64_t module_block_size;           /* bytes */
    uint64_t static_closure;              /* link-time address of a static closure whose code
                                             pointer is code_addr (between data_begin/end), 0
                                             if none */
    char location[OCAML_SYMBOL_MAX];      /* "sched.ml:12" or "" */
    int module_field;                     /* index of the module block field that holds
                                             static_closure (module_layout.h), preferring one
                                             at wanted_depth; -1 if none was found */
    int depth;                            /* submodule depth of that field: 0 toplevel, 1 in
                                             a submodule...; -1 unknown (no field found, or
                                             the block's layout could not be read) */
    int wanted_depth;                     /* submodule levels the requested path puts
                                             between the unit and the function: Miou.yield
                                             0, Picos.Fiber.yield 1 (unit Picos) */
    bool layout_known;                    /* the module block's layout was read */
    bool stamped;                         /* named by its exact symbol (Unit.fn_<stamp>) */
    bool reexported;                      /* another unit's function, held by field
                                             module_field of module_symbol's block
                                             (`let yield = Other.yield`, include) */
    bool through_submodule;               /* reexported, but reached inside another unit's
                                             submodule block held by that field: the
                                             binary does not name that submodule, so
                                             depth is -1 (listed, never chosen) */
    bool documented;                      /* reexported, and the requested path is a
                                             documented re-export of this very function
                                             (ocaml_documented_reexports, checked by
                                             yield_report.c): the only re-exports chosen */
};

/* Splits "A.B.fn" into the unit symbol ("camlA__B") and function ("fn"). 0 or -1 (malformed:
 * empty parts, no dot, characters OCaml identifiers cannot hold). */
int ocaml_path_split(const char *path, char *unit_symbol, size_t unit_len, char *fn, size_t fn_len);

/* All candidates for `path` in img, at most max; *count gets the number found (which may
 * exceed max). A path names a function through dune's wrapping and module aliases: for
 * A.B.f the units tried are A__B, every wrapped unit A__<lib>__B (Eio.Fiber ->
 * Eio__core__Fiber: dune's alias modules leave no trace in the binary), and unit A with a
 * submodule B. `Unit.fn_<stamp>` names one symbol exactly (the probe suggests it when two
 * candidates cannot be told apart). Re-exports are candidates too: a field of a tried
 * unit's block holding another unit's closure whose function is named f (reexports.h);
 * the binary keeps no name for the field itself, so `let yield = Other.yield` and `let
 * spawn = Other.yield` look alike, and two such fields are two candidates (yield_report.c
 * chooses one only where its library documents the re-export).
 * 0, or -1 with err set for a malformed path. */
int ocaml_yield_candidates(const struct elf_image *img, const char *path,
                           struct yield_candidate *out, size_t max, size_t *count,
                           struct analysis_error *err);

/* Known schedulers' yields, for auto-detection and the probe's listing, as their users
 * name them (each resolves to the symbols real builds contain). NULL-terminated. */
extern const char *const ocaml_known_yields[];

/* Re-exports that their library documents (Moonpool.yield is Picos.Fiber.yield): the only
 * re-exported names a yield request may resolve through, since the binary does not record
 * which field holds which name. Terminated by {NULL, NULL}. */
struct ocaml_documented_reexport {
    const char *name;                     /* "Moonpool.yield" */
    const char *source;                   /* "Picos.Fiber.yield": resolved directly */
};
extern const struct ocaml_documented_reexport ocaml_documented_reexports[];

#endif
