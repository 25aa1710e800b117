(* Fault_common: what several fault programs share.

   [checked_until_preempted k refs ~n] runs checked kernels in the calling fiber until the
   scheduler has seen [n] preemptions (any fiber's), and fails after 30 s of wall time
   without them. A fixed amount of work is not enough: the monitor looks at a thread that
   ran its main fiber only every 50 ms or so (it backs off there), and on a loaded machine
   a fiber may get little CPU, so a short fiber phase can end unpreempted. *)

let checked_until_preempted (k : Kernels.kernel) refs ~n =
  let deadline = Unix.gettimeofday () +. 30. and j = ref 0 in
  while Sched.preemptions_seen () < n do
    if Unix.gettimeofday () > deadline then
      Tcommon.fail "fewer than %d preemptions after 30 s of kernels" n;
    Kernels.checked k Kernels.seeds refs (!j mod Array.length Kernels.seeds);
    incr j
  done
