(* fiber_exit: `exit 3` called from a fiber while the other fibers are suspended (some of
   them preempted).

   Expected (fault_test.sh fiber_exit): exit status 3, as without the shim; stdout has
   the RESULT line (printed by the exiting fiber) followed by "at_exit ran" (an at_exit
   function registered by the program runs, and buffered output is flushed); the shim's
   stats line appears, with preemptions >= 1. *)

let () =
  Tcommon.main "fiber_exit" @@ fun () ->
  let k = Kernels.std_poll and seeds = Kernels.seeds in
  let refs = Kernels.references k seeds in
  at_exit (fun () -> print_endline "at_exit ran");
  let completed = Array.make 3 0 in
  Sched.run (fun () ->
      Kernels.fork_checked_fibers k refs ~nfibers:3 ~rounds:1000 completed;
      Sched.fork (fun () ->
          Fault_common.checked_until_preempted k refs ~n:1;
          Tcommon.result
            (("suspended_fibers_rounds", Tcommon.i (Array.fold_left ( + ) 0 completed))
             :: Tcommon.sched_counters ());
          exit 3));
  Tcommon.fail "the fibers finished before the exit"
