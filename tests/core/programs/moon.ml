(* Moon: a library that names its scheduler's functions as its own, the shape of Moonpool
   0.11 over Picos (moonpool.ml: `let yield = Picos.Fiber.yield`). Nothing here is a
   function of Moon: each field of Moon's module block holds a copy of another unit's
   closure (yield's is loaded through Sched_fiber's submodule block Fiber), and the binary
   has no symbol camlMoon.yield_<stamp>. OCPREEMPT_YIELD=Moon.yield must resolve to
   Sched_fiber.Fiber.yield itself (reexport_yield.ml). *)

let yield = Sched_fiber.Fiber.yield
let run = Sched.run
let fork = Sched.fork

(* A module alias: no field and no symbol, as dune's aliases. *)
module Fiber = Sched_fiber.Fiber
