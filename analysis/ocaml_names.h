/* ocaml_names: from an OCaml path ("Sched.yield", "Eio.Fiber.yield",
 * "Dune__exe__Main.yield") to the native symbols that may implement it.
 *
 * OCaml 5 names a toplevel function `caml<Module>.<fn>_<stamp>` and the module block
 * `caml<Module>`, where <Module> is the compilation unit with wrapped-library paths joined by
 * "__" (Eio.Fiber -> Eio__Fiber). Names are ambiguous (a nested `yield` shares the prefix),
 * so this returns every candidate with its file:line when DWARF/line info has it; the shim
 * decides for certain at run time (module block fields). Invariant: never picks one
 * silently.
 */
#ifndef OCPREEMPT_OCAML_NAMES_H
#define OCPREEMPT_OCAML_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include "elf_image.h"

#define OCAML_SYMBOL_MAX 256

struct yield_candidate {
    char code_symbol[OCAML_SYMBOL_MAX];   /* camlSched.yield_269 */
    uint64_t code_addr;                   /* link-time address of the code */
    char module_symbol[OCAML_SYMBOL_MAX]; /* camlSched */
    uint64_t module_block;                /* link-time address of the module block, 0 if none */
    uint64_t module_block_size;           /* bytes */
    uint64_t static_closure;              /* link-time address of a static closure whose code
                                             pointer is code_addr (between data_begin/end), 0
                                             if none */
    char location[OCAML_SYMBOL_MAX];      /* "sched.ml:12" or "" */
    int module_field;                     /* addition: index of the module block field
                                             that holds static_closure: read from the
                                             block when statically filled (OCaml 4,
                                             flambda), else decoded from the store in
                                             caml<Unit>.entry (OCaml 5 fills the block at
                                             run time). -1 if not found. Not proof of a
                                             toplevel value: without flambda a
                                             submodule's functions get fields too. */
};

/* Splits "A.B.fn" into the unit symbol ("camlA__B") and function ("fn"). 0 or -1 (malformed:
 * empty parts, no dot, characters OCaml identifiers cannot hold). */
int ocaml_path_split(const char *path, char *unit_symbol, size_t unit_len, char *fn, size_t fn_len);

/* All candidates for `path` in img, at most max; *count gets the number found (which may
 * exceed max). 0, or -1 with err set for a malformed path. */
int ocaml_yield_candidates(const struct elf_image *img, const char *path,
                           struct yield_candidate *out, size_t max, size_t *count,
                           struct analysis_error *err);

/* Known schedulers' yields, for auto-detection and the probe's listing. NULL-terminated. */
extern const char *const ocaml_known_yields[];

#endif
