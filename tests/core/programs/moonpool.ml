(* Moonpool: a stand-in for Moonpool 0.11's `let yield = Picos.Fiber.yield`, the re-export
   ocpreempt resolves because Moonpool documents it (analysis/names/known_yields.c). With
   MOONPOOL_SWAPPED set, the field holds another function once initialised (adversary
   finding F4's shape): the file still shows the copy of Picos.Fiber.yield, and the shim
   must find out at run time and turn preemption off, never call Sched.pause for it. *)

let yield = if Sys.getenv_opt "MOONPOOL_SWAPPED" <> None then Sched.pause else Picos.Fiber.yield
