(* Copy_cond (F4's shape): which function yield holds is decided while the module
   initialises (here it is always Sched.pause); the file shows a copy of Sched.yield.
   OCPREEMPT_YIELD=Copy_cond.yield must be refused, not reported "active" and left inert. *)

let yield = if Array.length Sys.argv < 50 then Sched.pause else Sched.yield
