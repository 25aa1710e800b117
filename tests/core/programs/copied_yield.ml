(* copied_yield: names whose field holds a copy of another unit's function, where the
   binary cannot say which field has the name (Copy_swap, Copy_shadow, Copy_cond).

   Fibers run checked kernels and never yield voluntarily. OCPREEMPT_YIELD=Copy_swap.yield
   (and the others) must be refused: the scheduler then receives no yield at all. A shim
   that called the copy it found (Sched.yield, held by Copy_swap.resume) shows
   yields_received > 0 with voluntary == 0; one that called the name's real value
   (Sched.pause) shows voluntary > 0. The twin, OCPREEMPT_YIELD=Sched.yield (the name the
   refusal suggests), is preempted: yields_received equals the shim's preemptions. *)

let () =
  Tcommon.main "copied_yield" @@ fun () ->
  (* the premise: the names hold what their files say *)
  if Copy_swap.yield != Sched.pause || Copy_swap.resume != Sched.yield then
    Tcommon.fail "Copy_swap's fields are not Sched.pause and Sched.yield";
  if Copy_shadow.yield != Sched.pause then Tcommon.fail "Copy_shadow.yield is not Sched.pause";
  if Copy_cond.yield != Sched.pause then Tcommon.fail "Copy_cond.yield is not Sched.pause";
  let nfibers = 4 and rounds = 200 * Tcommon.scale () in
  Kernels.run_checked_poll_fibers "copied_yield" ~nfibers ~rounds;
  Tcommon.result ([ ("fibers", Tcommon.i nfibers) ] @ Tcommon.sched_counters ())
