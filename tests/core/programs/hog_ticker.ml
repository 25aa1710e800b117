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
  let t0 = Tcommon.now () in
  (* the ticker is forked first, so that it has ticked once before the hog starts *)
  let t, chunks = Kernels.hog_beside_ticker ~seconds () in
  let elapsed = Tcommon.now () -. t0 in
  if chunks < 1 then Tcommon.fail "hog computed no chunk";
  Tcommon.result
    ([ ("worst_gap_ms", Tcommon.ms t.worst);
       ("ticks", Tcommon.i t.ticks);
       ("hog_chunks", Tcommon.i chunks);
       ("elapsed_ms", Tcommon.ms elapsed) ]
    @ Tcommon.sched_counters ())
