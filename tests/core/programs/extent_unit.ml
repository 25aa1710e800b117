(* Extent_unit: a whole unit named critical (OCPREEMPT_CRITICAL=Extent_unit) in
   many_extents. *)

let inside = ref false

(* Not a tail call: a function whose last action is a tail call has left its own frame,
   and with it the extent, when the callee runs. *)
let[@inline never] run seconds =
  let n = Busy.for_seconds ~flag:inside seconds in
  n + 1
