(* yield_count: the scheduler sees exactly the yields the shim reports.

   Fibers run checked kernels and never yield voluntarily, and nothing else in the
   program performs Sched.Yield. So every yield the scheduler receives is a
   preemption made by the shim, and [yields_received] must equal the shim's stats
   counter [preemptions] (the runner compares them). A difference means the shim
   counts preemptions that did not reach the scheduler (lost yields) or makes fibers
   yield without counting it. *)

let () =
  Tcommon.main "yield_count" @@ fun () ->
  let scale = Tcommon.scale () in
  let kpoll = Kernels.std_poll in
  let kalloc = Kernels.std_alloc in
  let kfloat = Kernels.std_float in
  let seeds = Kernels.seeds in
  let rpoll = Kernels.references kpoll seeds
  and ralloc = Kernels.references kalloc seeds
  and rfloat = Kernels.references kfloat seeds in
  let nfibers = 4 and rounds = 100 * scale in
  let finished = ref 0 in
  Sched.run (fun () ->
      for f = 0 to nfibers - 1 do
        Sched.fork (fun () ->
            for r = 0 to rounds - 1 do
              let j = (f + r) mod Array.length seeds in
              Kernels.checked kpoll seeds rpoll j;
              Kernels.checked kalloc seeds ralloc j;
              Kernels.checked kfloat seeds rfloat j
            done;
            incr finished)
      done);
  if !finished <> nfibers then Tcommon.fail "%d of %d fibers finished" !finished nfibers;
  if Sched.voluntary_yields () <> 0 then Tcommon.fail "voluntary yields in yield_count";
  Tcommon.result
    ([ ("fibers", Tcommon.i nfibers) ] @ Tcommon.sched_counters ())
