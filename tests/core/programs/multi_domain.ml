(* multi_domain: preemption in several domains at once, and in short-lived domains.

   Domains 1 and 2 each run their own Sched with a hog (~1 s x scale, non-allocating,
   checked chunks) and a ticker. Meanwhile the main domain churns: it spawns a domain
   running a small scheduler (hog 20 ms + ticker), joins it, and repeats (20 x scale
   times), so the shim must set up and tear down its per-domain state while other
   domains are being preempted.

   Reported: each long-lived domain's worst ticker gap (the runner checks them
   against a bound with the shim, and > 500 ms without: starvation in every domain),
   and the worst gap seen in the churned domains. Hog chunks are compared with the
   main domain's references (Kernels.spin_refs). *)

let () =
  Tcommon.main "multi_domain" @@ fun () ->
  let scale = Tcommon.scale () in
  let seconds = 1.0 *. float_of_int scale in
  let d1 = Domain.spawn (fun () -> Kernels.hog_beside_ticker ~seconds ()) in
  let d2 = Domain.spawn (fun () -> Kernels.hog_beside_ticker ~seconds ()) in
  let churn = 20 * scale in
  let churn_worst = ref 0. in
  for _ = 1 to churn do
    let t, chunks = Domain.join (Domain.spawn (fun () -> Kernels.hog_beside_ticker ~seconds:0.02 ())) in
    if chunks < 1 then Tcommon.fail "a churned domain's hog computed nothing";
    if t.worst > !churn_worst then churn_worst := t.worst
  done;
  let t1, c1 = Domain.join d1 in
  let t2, c2 = Domain.join d2 in
  Tcommon.result
    ([ ("worst_gap_ms_d1", Tcommon.ms t1.worst);
       ("worst_gap_ms_d2", Tcommon.ms t2.worst);
       ("worst_gap_ms_churn", Tcommon.ms !churn_worst);
       ("ticks_d1", Tcommon.i t1.ticks);
       ("ticks_d2", Tcommon.i t2.ticks);
       ("hog_chunks", Tcommon.i (c1 + c2));
       ("churned_domains", Tcommon.i churn) ]
    @ Tcommon.sched_counters ())
