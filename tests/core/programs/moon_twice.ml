(* Moon_twice: two functions named yield in one unit's block. The first, shadowed, keeps its
   field and symbol camlMoon_twice.yield_<stamp>; it yields voluntarily (Sched.pause),
   which reexport_yield.ml reports as a failure. The second, the name's meaning in OCaml,
   is a re-export of Sched.yield. The binary does not say which field the name means now:
   OCPREEMPT_YIELD=Moon_twice.yield must be refused as ambiguous, never guessed. *)

let yield () = Sched.pause ()
let yield = Sched.yield
