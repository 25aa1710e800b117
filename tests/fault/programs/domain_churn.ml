(* domain_churn: 100 domains spawned and joined in a loop (25 rounds of 4 at once), each
   running a scheduler whose fibers run checked kernels long enough to be preempted, while
   the main domain's own fibers compute too.

   The shim registers each domain's thread when it starts and forgets it when it ends;
   domain ids grow past what any single moment uses. Expected (fault_test.sh
   domain_churn): exit 0, every kernel result correct, preempted == the shim's
   preemptions, and preemptions >= 1. *)

let rounds = 25 and per_round = 4

let one_domain k refs () =
  let completed = Array.make 2 0 in
  Sched.run (fun () -> Kernels.fork_checked_fibers k refs ~nfibers:2 ~rounds:3 completed);
  Kernels.check_completed "churned domain" completed ~rounds:3

let () =
  Tcommon.main "domain_churn" @@ fun () ->
  let k = Kernels.std_alloc and kp = Kernels.std_poll and seeds = Kernels.seeds in
  let refs = Kernels.references k seeds and prefs = Kernels.references kp seeds in
  let spawned = ref 0 and main_rounds = ref 0 in
  Sched.run (fun () ->
      Sched.fork (fun () ->
          for _ = 1 to rounds do
            let ds = List.init per_round (fun _ -> Domain.spawn (one_domain k refs)) in
            spawned := !spawned + per_round;
            List.iter Domain.join ds;
            Sched.pause ()
          done);
      Sched.fork (fun () ->
          while !spawned < rounds * per_round do
            Kernels.checked kp seeds prefs (!main_rounds mod Array.length seeds);
            incr main_rounds;
            Sched.pause ()
          done));
  if !spawned <> rounds * per_round then Tcommon.fail "spawned %d domains" !spawned;
  Tcommon.result
    ([ ("domains", Tcommon.i !spawned); ("main_rounds", Tcommon.i !main_rounds) ]
    @ Tcommon.sched_counters ())
