(* systhreads: preemption of fibers in two systhreads of one domain.

   Two Thread.t each run their own Sched with a hog (~1.5 s x scale of wall time,
   non-allocating, checked chunks) and a ticker. The threads share the domain lock;
   OCaml's tick thread makes them switch every 50 ms at a poll point — the same
   points the shim uses, so the two mechanisms must compose: a preemption must go to
   the scheduler of the thread whose fiber it stopped, and thread switches must not
   be lost or turned into yields.

   Checked: both threads make progress (hog chunks and ticks in each), hog results are
   correct. Reported: each thread's worst ticker gap (the runner bounds it with the
   shim and expects starvation, > 500 ms, without). *)

let () =
  Tcommon.main "systhreads" @@ fun () ->
  let scale = Tcommon.scale () in
  let seconds = 1.5 *. float_of_int scale in
  let results = Array.make 2 None in
  let threads =
    Array.init 2 (fun i ->
        Thread.create (fun () -> results.(i) <- Some (Kernels.hog_beside_ticker ~seconds ())) ())
  in
  Array.iter Thread.join threads;
  let get i =
    match results.(i) with
    | Some r -> r
    | None -> Tcommon.fail "thread %d did not finish its scheduler" i
  in
  let (t0, c0), (t1, c1) = (get 0, get 1) in
  if c0 < 1 || c1 < 1 then Tcommon.fail "a thread made no progress (hog chunks %d, %d)" c0 c1;
  if t0.ticks < 2 || t1.ticks < 2 then
    Tcommon.fail "a ticker made no progress (ticks %d, %d)" t0.ticks t1.ticks;
  Tcommon.result
    ([ ("worst_gap_ms_t0", Tcommon.ms t0.worst);
       ("worst_gap_ms_t1", Tcommon.ms t1.worst);
       ("ticks_t0", Tcommon.i t0.ticks);
       ("ticks_t1", Tcommon.i t1.ticks);
       ("hog_chunks_t0", Tcommon.i c0);
       ("hog_chunks_t1", Tcommon.i c1) ]
    @ Tcommon.sched_counters ())
