(* mutex_held: no preemption while a fiber holds a Mutex.t.

   Fibers A and B run in the same scheduler, hence the same domain and thread.
   A repeatedly locks a Mutex.t, computes ~200 ms (checked kernels, with polls and
   allocations), unlocks, then computes outside the lock (where preemption is fine,
   so preemptions do happen). B repeatedly locks and unlocks the same mutex and yields
   voluntarily.

   If the shim preempted A while it held the mutex, B would run and lock a mutex
   already held by its own thread: OCaml 5 mutexes are error-checking, so Mutex.lock
   raises Sys_error (EDEADLK) — caught here and reported as FAIL — or, with another
   mutex kind, deadlocks (the runner runs under `timeout`). Before even trying, the
   scheduler hook fails the program if a yield arrives while A is marked as holding
   the lock. *)

let () =
  Tcommon.main "mutex_held" @@ fun () ->
  let scale = Tcommon.scale () in
  let kpoll = { Kernels.kname = "poll"; run = Kernels.poll_kernel; iters = 40_000 } in
  let kalloc = { Kernels.kname = "alloc"; run = Kernels.alloc_kernel; iters = 10_000 } in
  let seeds = Kernels.seeds in
  let rpoll = Kernels.references kpoll seeds and ralloc = Kernels.references kalloc seeds in
  let m = Mutex.create () in
  let a_holds = ref false and a_done = ref false in
  let rounds = 4 * scale and b_locks = ref 0 and a_locks = ref 0 in
  let on_yield ~fiber ~nth:_ =
    if !a_holds then
      Tcommon.fail "fiber %d yielded while fiber A holds the mutex (preempted a mutex holder)"
        fiber;
    Sched.Continue
  in
  let work n =
    for r = 0 to n - 1 do
      let j = r mod Array.length seeds in
      Kernels.checked kpoll seeds rpoll j;
      Kernels.checked kalloc seeds ralloc j
    done
  in
  let lock who =
    try Mutex.lock m
    with Sys_error e ->
      Tcommon.fail "%s: Mutex.lock raised Sys_error %S: the mutex is held by this thread, \
                    i.e. a fiber was preempted while holding it" who e
  in
  Sched.run ~on_yield (fun () ->
      (* B first, so that it is waiting in the queue when A is preempted *)
      Sched.fork (fun () ->
          while not !a_done do
            lock "B";
            incr b_locks;
            Mutex.unlock m;
            work 1;
            Sched.pause ()
          done);
      Sched.fork (fun () ->
          for _ = 1 to rounds do
            lock "A";
            a_holds := true;
            incr a_locks;
            work 80 (* ~200 ms while holding the mutex *);
            a_holds := false;
            Mutex.unlock m;
            work 20 (* outside the mutex: preemption allowed *)
          done;
          a_done := true));
  if !a_locks <> rounds then Tcommon.fail "A locked %d of %d times" !a_locks rounds;
  Tcommon.result
    ([ ("a_locks", Tcommon.i !a_locks); ("b_locks", Tcommon.i !b_locks) ]
    @ Tcommon.sched_counters ())
