(* Parent_crit: a read-modify-write the program declares critical (OCPREEMPT_CRITICAL=
   Parent_crit.update); the work in the middle runs on a fiber of its own (parent_extent). *)

let counter = ref 0

let update work =
  let v = !counter in
  ignore (Sys.opaque_identity (work ()));
  counter := v + 1
