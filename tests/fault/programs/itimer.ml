(* itimer: a program using setitimer for itself while its fibers are preempted.

   ITIMER_VIRTUAL (SIGVTALRM, every 5 ms of the process's user CPU time) and ITIMER_REAL
   (SIGALRM, every 7 ms) with counting handlers; fibers run checked kernels (preempted).
   The shim uses neither timer nor signal: the monitor sleeps on CLOCK_MONOTONIC and
   blocks all signals, so process-directed timer signals reach OCaml threads only.

   Reported: vtalrm and alarm counts, the user CPU time and wall time of the run. Expected
   (fault_test.sh itimer): exit 0 (kernels correct); vtalrm >= 1/3 of user CPU / 5 ms (the
   timer keeps firing at its rate; Linux may merge a pending signal, so not exact) and
   alarms >= 1; timers still armed at the end (the shim did not reset them). *)

let () =
  Tcommon.main "itimer" @@ fun () ->
  let scale = Tcommon.scale () in
  let vt = Atomic.make 0 and alarms = Atomic.make 0 in
  Sys.set_signal Sys.sigvtalrm (Sys.Signal_handle (fun _ -> Atomic.incr vt));
  Sys.set_signal Sys.sigalrm (Sys.Signal_handle (fun _ -> Atomic.incr alarms));
  let k = Kernels.std_poll and ka = Kernels.std_alloc and seeds = Kernels.seeds in
  let refs = Kernels.references k seeds and arefs = Kernels.references ka seeds in
  let every s = { Unix.it_interval = s; it_value = s } in
  let cpu0 = (Unix.times ()).tms_utime and t0 = Unix.gettimeofday () in
  ignore (Unix.setitimer Unix.ITIMER_VIRTUAL (every 0.005));
  ignore (Unix.setitimer Unix.ITIMER_REAL (every 0.007));
  let rounds = 40 * scale and completed = Array.make 3 0 in
  Sched.run (fun () ->
      Kernels.fork_checked_fibers k refs ~nfibers:2 ~rounds completed;
      Sched.fork (fun () ->
          for r = 0 to rounds - 1 do
            Kernels.checked ka seeds arefs (r mod Array.length seeds);
            completed.(2) <- completed.(2) + 1
          done;
          Fault_common.checked_until_preempted k refs ~n:1));
  let still_virtual = (Unix.getitimer Unix.ITIMER_VIRTUAL).it_interval
  and still_real = (Unix.getitimer Unix.ITIMER_REAL).it_interval in
  ignore (Unix.setitimer Unix.ITIMER_VIRTUAL (every 0.));
  ignore (Unix.setitimer Unix.ITIMER_REAL (every 0.));
  let cpu = (Unix.times ()).tms_utime -. cpu0 and wall = Unix.gettimeofday () -. t0 in
  Kernels.check_completed "itimer" completed ~rounds;
  if still_virtual <> 0.005 || still_real <> 0.007 then
    Tcommon.fail "timers changed under the program: virtual %g, real %g" still_virtual still_real;
  Tcommon.result
    ([ ("vtalrm", Tcommon.i (Atomic.get vt)); ("alarms", Tcommon.i (Atomic.get alarms));
       ("user_cpu_ms", Tcommon.ms cpu); ("wall_ms", Tcommon.ms wall) ]
    @ Tcommon.sched_counters ())
