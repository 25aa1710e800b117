(* hog_ticker: does a fiber that never yields starve the others?

   A hog fiber computes for ~1.5 s (x scale) in a non-allocating loop and never
   yields; a ticker fiber records the wall time at each of its turns and yields
   voluntarily. Without preemption the ticker waits for the hog's whole run, so its
   worst gap is ~1.5 s: the runner checks > 500 ms without the shim (the test bites)
   and < 250 ms with the shim at a 10 ms quantum.

   Also checked: every hog chunk gives the main fiber's result (no corruption at the
   poll points where the hog is preempted). *)

let () =
  Tcommon.main "hog_ticker" @@ fun () ->
  let scale = Tcommon.scale () in
  let seconds = 1.5 *. float_of_int scale in
  let t = Tcommon.new_ticker () in
  let hog_done = ref false and chunks = ref 0 in
  let t0 = Tcommon.now () in
  Sched.run (fun () ->
      (* the ticker first, so that it has ticked once before the hog starts *)
      Sched.fork (Tcommon.ticker_fiber t (fun () -> !hog_done));
      Sched.fork (Kernels.hog_fiber ~seconds hog_done chunks));
  let elapsed = Tcommon.now () -. t0 in
  if not !hog_done then Tcommon.fail "hog did not finish";
  if t.ticks < 2 then Tcommon.fail "ticker ticked %d times (want >= 2)" t.ticks;
  if !chunks < 1 then Tcommon.fail "hog computed no chunk";
  Tcommon.result
    ([ ("worst_gap_ms", Tcommon.ms t.worst);
       ("ticks", Tcommon.i t.ticks);
       ("hog_chunks", Tcommon.i !chunks);
       ("elapsed_ms", Tcommon.ms elapsed) ]
    @ Tcommon.sched_counters ())
