(* Moon_incl: `include Sched`, the other way a library re-exports a scheduler: every field
   of Sched's block is copied into Moon_incl's, Moon_incl.yield among them. *)

include Sched
