(* thread_churn: thousands of short-lived threads and domains, preempted while they live.

   The shim keeps one record per thread in a fixed table and its monitor reads a thread's
   TLS (its caml_state slot) and writes its domain's interrupt fields from another thread:
   a thread that exits, and a record reused by the next thread, must never be looked at
   half-way (a dead thread's TLS, a stale domain pointer), and a reused record must start
   clean (a previous owner's preemption state made the monitor compute a run as "new CPU
   time - old CPU time", which wrapped around to 18446744073382 ms).

   Phase 1: THREADS x scale systhreads, 8 at a time, each running its own Sched with a hog
   fiber (~0.3 ms of checked work in chunks) and a fiber that counts its turns; phase 2:
   DOMAINS x scale domains, 2 at a time, the same. At a 100 us quantum most of them are
   preempted, many shortly before they exit.

   Checked: every hog computes the main fiber's reference checksums, every thread and
   domain finishes; the runner checks the shim's longest_run_ns stays sane.

   With CHURN_OVERFLOW=1 instead: 520 threads alive at once (more than the shim's 512
   records), then released. The runner checks the shim counted the ones it could not
   register (threads_unregistered) and said so once. *)

let threads = 2000
let domains = 100
let batch_threads = 8

let seeds = Kernels.seeds
let spin_refs = Array.map (fun s -> Kernels.spin s 30_000) seeds

(* A small scheduler: a hog of `chunks` checked spin chunks, and a fiber that yields. *)
let small_sched ~chunks =
  let bad = ref 0 and hog_done = ref false and turns = ref 0 in
  Sched.run (fun () ->
      Sched.fork (fun () ->
          while not !hog_done do incr turns; Sched.pause () done);
      Sched.fork (fun () ->
          for i = 0 to chunks - 1 do
            let j = i mod Array.length seeds in
            if Kernels.spin seeds.(j) 30_000 <> spin_refs.(j) then incr bad
          done;
          hog_done := true));
  if !bad > 0 then Tcommon.fail "%d wrong checksums in a short-lived scheduler" !bad;
  !turns

let churn () =
  let scale = Tcommon.scale () in
  let nthreads = threads * scale and ndomains = domains * scale in
  let finished = Atomic.make 0 in
  let started = ref 0 in
  while !started < nthreads do
    let n = min batch_threads (nthreads - !started) in
    let ts =
      List.init n (fun _ ->
          Thread.create (fun () -> ignore (small_sched ~chunks:10); Atomic.incr finished) ())
    in
    started := !started + n;
    List.iter Thread.join ts
  done;
  if Atomic.get finished <> nthreads then
    Tcommon.fail "%d of %d threads finished" (Atomic.get finished) nthreads;
  let dfinished = ref 0 in
  for _ = 1 to ndomains / 2 do
    let ds = List.init 2 (fun _ -> Domain.spawn (fun () -> small_sched ~chunks:30)) in
    List.iter (fun d -> ignore (Domain.join d); incr dfinished) ds
  done;
  Tcommon.result
    ([ ("threads", Tcommon.i nthreads); ("domains", Tcommon.i !dfinished) ]
    @ Tcommon.sched_counters ())

let overflow () =
  let alive = 520 in
  let m = Mutex.create () and c = Condition.create () and release = ref false in
  let waiting = ref 0 in
  let ts =
    List.init alive (fun _ ->
        Thread.create
          (fun () ->
            Mutex.lock m;
            incr waiting;
            while not !release do Condition.wait c m done;
            Mutex.unlock m)
          ())
  in
  let rec wait_all () =
    Mutex.lock m;
    let w = !waiting in
    Mutex.unlock m;
    if w < alive then (Thread.yield (); wait_all ())
  in
  wait_all ();
  Mutex.lock m;
  release := true;
  Condition.broadcast c;
  Mutex.unlock m;
  List.iter Thread.join ts;
  let turns = small_sched ~chunks:30 in
  Tcommon.result [ ("alive", Tcommon.i alive); ("turns", Tcommon.i turns) ]

let () =
  Tcommon.main "thread_churn" @@ fun () ->
  if Sys.getenv_opt "CHURN_OVERFLOW" = Some "1" then overflow () else churn ()
