(* Picos: a stand-in for the unit of the Picos library, for documented_reexport.ml only: a
   function Picos.Fiber.yield of its own (camlPicos.yield_<stamp>, in submodule Fiber),
   the shape of Picos 0.5+. The real library is tested in tests/ecosystem (eco_moonpool). *)

module Fiber = struct
  let yield () = Sched.yield ()
end
