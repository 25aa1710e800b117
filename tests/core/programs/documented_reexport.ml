(* documented_reexport: OCPREEMPT_YIELD=Moonpool.yield, a documented re-export of
   Picos.Fiber.yield (stand-ins moonpool.ml and picos.ml over Sched).

   Fibers never yield voluntarily. Resolved, every yield the scheduler receives is a
   preemption the shim counted. With MOONPOOL_SWAPPED=1 the field holds Sched.pause at run
   time: the shim must say so and stop (voluntary stays 0, nothing is received). *)

let () =
  Tcommon.main "documented_reexport" @@ fun () ->
  let swapped = Sys.getenv_opt "MOONPOOL_SWAPPED" <> None in
  if (not swapped) && Moonpool.yield != Picos.Fiber.yield then
    Tcommon.fail "Moonpool.yield is not Picos.Fiber.yield";
  if swapped && Moonpool.yield != Sched.pause then Tcommon.fail "Moonpool.yield is not Sched.pause";
  let nfibers = 4 and rounds = 200 * Tcommon.scale () in
  Kernels.run_checked_poll_fibers "documented_reexport" ~nfibers ~rounds;
  Tcommon.result ([ ("fibers", Tcommon.i nfibers) ] @ Tcommon.sched_counters ())
