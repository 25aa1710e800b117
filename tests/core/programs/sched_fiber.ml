(* Sched_fiber: a scheduler library whose yield is a function of a submodule, the shape of
   Picos (Picos.Fiber.yield is the symbol camlPicos.yield_<stamp>, a field of a submodule
   block of Picos). It performs Sched's own Yield, so each call is one yield Sched
   receives. *)

module Fiber = struct
  let yield () = Effect.perform Sched.Yield
end
