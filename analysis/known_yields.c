/* known_yields: the well-known schedulers' yield functions, as their users name them.
 *
 * Declared in ocaml_names.h (resolution, auto-detection and the probe's listing use it).
 * In a file of its own, without libelf or libdw, because the shim's front object
 * (shim/front.c) also reads it: a process that links none of these units and names no
 * yield has nothing the shim may preempt, which the front decides before loading the
 * analysis. Invariant: every entry is a dotted OCaml path whose first component is the
 * first "__"-separated part of the units that may implement it.
 */
#include "ocaml_names.h"

const char *const ocaml_known_yields[] = {
    "Eio.Fiber.yield",
    "Miou.yield",
    "Picos.Fiber.yield",
    "Moonpool_fib.Fiber.yield",
    "Moonpool_fib.yield",
    NULL,
};
