(* many_extents: critical extents everywhere, and the hog is still preempted between them.

   Run with OCPREEMPT_CRITICAL=Extent_work.section,Extent_unit (a function, callees
   included, and a whole unit). A hog fiber cycles through: Extent_work.section (~15 ms in
   a callee, Busy, that is not critical by itself), Extent_unit.run (~15 ms), forcing a
   fresh lazy value whose thunk computes ~15 ms, a Hashtbl.iter whose callback computes
   ~15 ms, and ~20 ms of free computation; beside it a ticker. The on_yield hook fails on
   a yield inside any extent. Reported: the share of cycles whose free computation was
   preempted (runner: >= 50% with the shim: 20 ms of CPU is 20 quanta at 1 ms, whatever the
   load; 0 without preemption, where the ticker's worst gap is also the hog's whole run),
   and the stats must show both refusals (skip_extent) and preemptions. *)

let () =
  Tcommon.main "many_extents" @@ fun () ->
  let scale = Tcommon.scale () in
  let in_lazy = ref false and in_iter = ref false and in_free = ref false in
  let free_preempted = ref false and cycles_preempted = ref 0 in
  let t = Tcommon.new_ticker () in
  let hog_done = ref false and cycles = ref 0 in
  let table = Hashtbl.create 4 in
  Hashtbl.replace table 1 "one";
  let flags =
    [ ("Extent_work.section", Extent_work.inside); ("Extent_unit", Extent_unit.inside);
      ("a lazy thunk", in_lazy); ("a Hashtbl.iter callback", in_iter) ]
  in
  let deadline = ref 0. in
  let on_yield ~fiber ~nth =
    if !in_free then free_preempted := true;
    Busy.refuse_inside flags ~fiber ~nth
  in
  Sched.run ~on_yield (fun () ->
      Sched.fork (Tcommon.ticker_fiber t (fun () -> !hog_done));
      Sched.fork (fun () ->
          deadline := Tcommon.now () +. (1.2 *. float_of_int scale);
          while Tcommon.now () < !deadline do
            ignore (Extent_work.section 0.015);
            ignore (Extent_unit.run 0.015);
            let l = lazy (Busy.for_seconds ~flag:in_lazy 0.015) in
            ignore (Lazy.force l);
            Hashtbl.iter (fun _ _ -> ignore (Busy.for_seconds ~flag:in_iter 0.015)) table;
            free_preempted := false;
            ignore (Busy.for_seconds ~flag:in_free 0.02);
            if !free_preempted then incr cycles_preempted;
            incr cycles
          done;
          hog_done := true));
  if !cycles < 1 then Tcommon.fail "the hog completed no cycle";
  Tcommon.result
    ([ ("worst_gap_ms", Tcommon.ms t.worst); ("cycles", Tcommon.i !cycles);
       ("free_preempted_pct", Tcommon.i (100 * !cycles_preempted / !cycles)) ]
    @ Tcommon.sched_counters ())
