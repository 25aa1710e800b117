(* fiber_raise: an exception nobody handles, raised by a fiber that has been preempted
   (its stack went through the shim's stub several times), escapes the scheduler and the
   program.

   Not run under Tcommon.main, whose handler would turn it into a FAIL line: the
   exception reaches the runtime. Expected (fault_test.sh fiber_raise): exit status 2
   and stderr "Fatal error: exception Fiber_raise.Boom(42)" exactly as without the shim
   (the shim's stats line follows it, with preemptions >= 2); stdout has
   "fiber_raise: raising after 2 preemptions" (of the raising fiber itself). *)

exception Boom of int

let () =
  Tcommon.name := "fiber_raise";
  let k = Kernels.std_poll and seeds = Kernels.seeds in
  let refs = Kernels.references k seeds in
  let completed = Array.make 2 0 in
  let raiser = ref (-1) and raiser_preempted = ref 0 in
  (* the raiser never yields by itself: each of its yields is a preemption *)
  let on_yield ~fiber ~nth =
    if fiber = !raiser then raiser_preempted := nth;
    Sched.Continue
  in
  Sched.run ~on_yield (fun () ->
      Kernels.fork_checked_fibers k refs ~nfibers:2 ~rounds:1000 completed;
      Sched.fork (fun () ->
          raiser := Sched.self ();
          let j = ref 0 in
          while !raiser_preempted < 2 do
            Kernels.checked k seeds refs (!j mod Array.length seeds);
            incr j
          done;
          Printf.printf "fiber_raise: raising after %d preemptions\n%!" !raiser_preempted;
          raise (Boom 42)));
  Tcommon.fail "the scheduler returned"
