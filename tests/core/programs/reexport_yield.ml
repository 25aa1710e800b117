(* reexport_yield: the yield named through libraries that re-export it (Moon: `let yield =
   Sched_fiber.Fiber.yield`, as Moonpool's `let yield = Picos.Fiber.yield`; Moon_incl:
   `include Sched`).

   As in yield_count, fibers run checked kernels and never yield voluntarily, so with
   OCPREEMPT_YIELD=Moon.yield every yield the scheduler receives is a preemption and
   [yields_received] equals the shim's [preemptions] only if the shim calls the
   re-exported yield itself. A shim that called Moon_twice's shadowed yield (Sched.pause) shows up as
   voluntary yields. Moon_bad and Moon_twice are linked for the names they hold. *)

let () =
  Tcommon.main "reexport_yield" @@ fun () ->
  (* the premise: the names are re-exports of Sched.yield, not wrappers of their own *)
  if Moon.yield != Sched_fiber.Fiber.yield || Moon_incl.yield != Sched.yield then
    Tcommon.fail "Moon.yield or Moon_incl.yield is not the closure it re-exports";
  if Moon_twice.yield != Sched.yield then Tcommon.fail "Moon_twice.yield is not Sched.yield";
  if Moon_bad.pause <> 42 then Tcommon.fail "Moon_bad.pause changed";
  let scale = Tcommon.scale () in
  let kpoll = Kernels.std_poll and kalloc = Kernels.std_alloc in
  let seeds = Kernels.seeds in
  let rpoll = Kernels.references kpoll seeds and ralloc = Kernels.references kalloc seeds in
  let nfibers = 4 and rounds = 100 * scale in
  let finished = ref 0 in
  Moon.run (fun () ->
      for f = 0 to nfibers - 1 do
        Moon.fork (fun () ->
            for r = 0 to rounds - 1 do
              let j = (f + r) mod Array.length seeds in
              Kernels.checked kpoll seeds rpoll j;
              Kernels.checked kalloc seeds ralloc j
            done;
            incr finished)
      done);
  if !finished <> nfibers then Tcommon.fail "%d of %d fibers finished" !finished nfibers;
  if Sched.voluntary_yields () <> 0 then
    Tcommon.fail "%d voluntary yields: something called Moon_twice's shadowed yield"
      (Sched.voluntary_yields ());
  Tcommon.result ([ ("fibers", Tcommon.i nfibers) ] @ Tcommon.sched_counters ())
