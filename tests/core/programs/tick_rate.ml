(* tick_rate: the shim's requests do not make systhreads switch.

   Two Thread.t each run a Sched with two hog fibers (non-allocating loops, overdue at
   every quantum) for 1 s of wall time (x scale) and count how often the runtime lock came
   back to them from the other thread (a shared "last runner" that each chunk of work
   checks). Only systhreads' tick thread (every 50 ms) should make them switch: the shim's
   preemptions yield to the thread's own scheduler. A request that wrote the tick's value
   was taken by systhreads' hook for a tick: a switch at every quantum (thousands a
   second at 100 us instead of at most 20).

   RESULT switches_per_s: switches per second of wall time (the tick's period is wall
   time: at most 20 a second, loaded or not). With TICK_RATE_YIELD=1 every chunk ends in
   Thread.yield (): the twin that shows the count sees switches above the tick's rate. *)

let () =
  Tcommon.main "tick_rate" @@ fun () ->
  let seconds = float_of_int (Tcommon.scale ()) in
  let yield_each_chunk = Sys.getenv_opt "TICK_RATE_YIELD" = Some "1" in
  let last_runner = Atomic.make (-1) and switches = Atomic.make 0 in
  let chunks = Array.make 2 0 in
  let t0 = Tcommon.now () in
  let hog me () =
    let acc = ref 0 in
    while Tcommon.now () -. t0 < seconds do
      for i = 1 to 2_000 do
        acc := (!acc * 31) + i
      done;
      if Atomic.get last_runner <> me then begin
        Atomic.set last_runner me;
        Atomic.incr switches
      end;
      chunks.(me) <- chunks.(me) + 1;
      if yield_each_chunk then Thread.yield ()
    done;
    ignore (Sys.opaque_identity !acc)
  in
  let threads =
    Array.init 2 (fun me ->
        Thread.create (fun () -> Sched.run (fun () -> Sched.fork (hog me); Sched.fork (hog me))) ())
  in
  Array.iter Thread.join threads;
  let wall = Tcommon.now () -. t0 in
  if chunks.(0) < 1 || chunks.(1) < 1 then
    Tcommon.fail "a thread made no progress (chunks %d, %d)" chunks.(0) chunks.(1);
  let n = Atomic.get switches in
  Tcommon.result
    ([ ("switches", Tcommon.i n); ("wall_ms", Tcommon.ms wall);
       ("switches_per_s", Printf.sprintf "%.1f" (float_of_int n /. wall));
       ("chunks_t0", Tcommon.i chunks.(0)); ("chunks_t1", Tcommon.i chunks.(1)) ]
    @ Tcommon.sched_counters ())
