(* alloc_rmw: the program's own read-modify-write through an allocation,
   [recorded := x :: !recorded], as a request handler records its latency.

   Fibers each handle requests: a computation with poll points, then the record. The
   record reads !recorded, allocates the cons cell (an allocation site) and writes:
   preempted at that allocation, another fiber's records made in between are lost. With
   OCPREEMPT_SITES=poll or loop the allocation is not a preemption site (the request loop
   calls a function that polls), so nothing is lost (runner: lost == 0, preemptions > 0);
   with all it may be. CORE_FAKE_PREEMPT=1 yields between the read and the write: the
   count check must bite. *)

let recorded = ref []

let[@inline never] record x =
  if Tcommon.fake_preempt then begin
    let old = !recorded in
    Tcommon.fake_yield ();
    recorded := x :: old
  end else recorded := x :: !recorded

let () =
  Tcommon.main "alloc_rmw" @@ fun () ->
  let scale = Tcommon.scale () in
  let nfibers = 4 and requests = 3000 * scale in
  Sched.run (fun () ->
      for f = 0 to nfibers - 1 do
        Sched.fork (fun () ->
            for r = 1 to requests do
              let v = Kernels.spin (f + r) 2_000 in
              record (v land 0xFF)
            done)
      done);
  let got = List.length !recorded and want = nfibers * requests in
  if got <> want then Tcommon.fail "lost %d of %d records (lost == %d)" (want - got) want (want - got);
  Tcommon.result ([ ("records", Tcommon.i got); ("lost", "0") ] @ Tcommon.sched_counters ())
