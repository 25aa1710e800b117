(* Extent_work: a function named critical by OCPREEMPT_CRITICAL=Extent_work.section in
   many_extents. Its callee (Busy) is not critical by itself: the extent covers callees. *)

let inside = ref false

let[@inline never] section seconds =
  let n = Busy.for_seconds ~flag:inside seconds in
  inside := true;
  Tcommon.fake_yield ();
  inside := false;
  n
