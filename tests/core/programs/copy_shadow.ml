(* Copy_shadow (F3): a first yield copying Sched.yield, shadowed by a second that is
   Sched.pause. OCPREEMPT_YIELD=Copy_shadow.yield must be refused, never call Sched.yield. *)

let yield = Sched.yield
let yield = ignore yield; Sched.pause
