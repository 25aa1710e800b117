(* Moonpool: not the library, only its re-export of the yield, as Moonpool 0.11's
   src/core/moonpool.ml writes it (`let yield = Picos.Fiber.yield`: Moonpool's fibers are
   Picos fibers). Linked into eco_moonpool (eco_picos.ml), where OCPREEMPT_YIELD=
   Moonpool.yield, the name Moonpool's documentation gives, must reach Picos' own yield:
   the unit has no symbol camlMoonpool.yield_<stamp>, only a field holding Picos'
   closure, loaded through Picos' submodule block Fiber. *)

let yield = Picos.Fiber.yield
