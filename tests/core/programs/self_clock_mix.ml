(* self_clock_mix: a fiber that allocates beside a hog that does not (issue 20).

   On one scheduler: a ticker fiber (Tcommon.ticker_fiber), a hog that computes in a
   non-allocating loop and never yields (Kernels.hog_fiber: one boxed float per chunk of
   ~200k iterations), and an allocating fiber that runs Kernels.alloc_kernel (checked
   against the main fiber's results) until the hog is done (or as long as the hog
   would run). With OCPREEMPT_SELF_CLOCK=1
   the allocating fiber clocks itself (stats self_clock_preempt) and the monitor backs
   off while it runs; the hog makes no trip, so the monitor must come back to it: its run
   is bounded by max(10 ms, 4 Q) + Q (docs/design.md, "Self-clocking"), which the runner
   checks on the stats' longest_run_ns (CPU time, so load does not stretch it) and on
   the ticker's worst gap. Without the shim the ticker starves for the hog's whole run. *)

let () =
  Tcommon.main "self_clock_mix" @@ fun () ->
  let scale = Tcommon.scale () in
  let seconds = 1.0 *. float_of_int scale in
  let k = Kernels.std_alloc in
  let refs = Kernels.references k Kernels.seeds in
  let t = Tcommon.new_ticker () in
  let hog_done = ref false and chunks = ref 0 and alloc_runs = ref 0 in
  Sched.run (fun () ->
      Sched.fork (Tcommon.ticker_fiber t (fun () -> !hog_done));
      Sched.fork (fun () ->
          (* bounded too: without the shim nothing else would run until it stops *)
          let deadline = Unix.gettimeofday () +. seconds in
          while (not !hog_done) && Unix.gettimeofday () < deadline do
            Kernels.checked k Kernels.seeds refs (!alloc_runs mod Array.length Kernels.seeds);
            incr alloc_runs
          done);
      Sched.fork (Kernels.hog_fiber ~seconds hog_done chunks));
  if not !hog_done then Tcommon.fail "the hog did not finish";
  if t.ticks < 2 then Tcommon.fail "the ticker ticked %d times (want >= 2)" t.ticks;
  Tcommon.result
    ([ ("worst_gap_ms", Tcommon.ms t.worst);
       ("ticks", Tcommon.i t.ticks);
       ("hog_chunks", Tcommon.i !chunks);
       ("alloc_runs", Tcommon.i !alloc_runs) ]
    @ Tcommon.sched_counters ())
