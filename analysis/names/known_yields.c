/* known_yields: the well-known schedulers' yield functions, as their users name them.
 *
 * Declared in ocaml_names.h (resolution, auto-detection and the probe's listing use it).
 * In a file of its own, without libelf or libdw, because the shim's front object
 * (shim/front/front.c) also reads it: a process that links none of these units and names no
 * yield has nothing the shim may preempt, which the front decides before loading the
 * analysis. Invariant: every entry is a dotted OCaml path whose first component is the
 * first "__"-separated part of the units that may implement it.
 */
#include "ocaml_names.h"

const char *const ocaml_known_yields[] = {
    "Eio.Fiber.yield",          /* Eio 1.x: camlEio__core__Fiber.yield_<stamp> */
    "Miou.yield",               /* Miou 0.5 and later: the toplevel camlMiou.yield_<stamp>
                                   (from 0.6.0 also Miou.Event.yield, a submodule's) */
    "Picos.Fiber.yield",        /* Picos 0.5 and later, and Moonpool 0.10 and later (its
                                   fibers are Picos fibers): camlPicos.yield_<stamp> */
    NULL,
};

/* Re-exports documented by their library, the only ones resolved (yield_report.c). The
 * binary does not record a field's OCaml name: `let yield = Sched.pause let resume =
 * Sched.yield` leaves a block holding closures of Sched.pause and Sched.yield, and nothing
 * says which field is `yield`; matching the closure's own function name would call
 * Sched.yield. Here the library's source says which function the name holds; the unit's
 * block must still hold that very closure (verified as for any candidate). Invariant: no
 * `source` is itself a `name` of this table. */
const struct ocaml_documented_reexport ocaml_documented_reexports[] = {
    {"Moonpool.yield", "Picos.Fiber.yield"},   /* Moonpool 0.11, src/core/moonpool.ml:
                                                  `let yield = Picos.Fiber.yield` */
    {NULL, NULL},
};
