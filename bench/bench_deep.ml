(* The cost of one landing decision (shim/landing/landing.c) against the depth of the fiber's stack,
   driven by scripts/bench (section "decision").

     bench_deep DEPTH SECONDS MODE

   One fiber recurses DEPTH frames without tail calls, then computes for SECONDS of wall
   time at the bottom; a second fiber ticks. MODE "still": the hog stays at the bottom
   (deep stack, changing only at the top); "moving": it climbs up and down by DEPTH/10
   frames again and again (the walk then covers the frames pushed or popped since the
   last decision). Prints "bench: depth=... ticks=...". The decision figures are in the
   shim's stats line (decision_mean_ns, decision_max_ns, walk_frames_max). *)

let sink = Common.sink

let rec down n k = if n = 0 then k () else 1 + down (n - 1) k

let () =
  let depth = int_of_string Sys.argv.(1) in
  let seconds = float_of_string Sys.argv.(2) in
  let moving = Sys.argv.(3) = "moving" in
  let stop = ref false and ticks = ref 0 in
  let deadline = Unix.gettimeofday () +. seconds in
  let hog () =
    if moving then
      while Unix.gettimeofday () < deadline do
        sink := !sink + down (max 1 (depth / 10)) (fun () -> Common.spin 20_000; 0)
      done
    else
      while Unix.gettimeofday () < deadline do Common.spin 20_000 done;
    stop := true
  in
  Sched.spawn (fun () -> sink := !sink + down depth (fun () -> hog (); 0));
  Sched.spawn (fun () -> while not !stop do incr ticks; Sched.yield () done);
  Sched.run ();
  Printf.printf "bench: depth=%d ticks=%d sink=%d\n" depth !ticks !sink
