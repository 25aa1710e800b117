(* park_resume: a thread asleep in a blocking section costs the monitor (almost) nothing,
   and is watched again as soon as it leaves.

   Twice: the domain's only thread sleeps 0.5 s in Unix.sleepf (a blocking section: the
   monitor parks the thread and looks at it again only after ~1 s, a safety net), then a
   hog that never yields runs for 0.6 s beside a ticker. Leaving the blocking section must
   wake the monitor: if it did not, each hog phase would run unwatched to its end and the
   ticker's worst gap would be ~600 ms; the runner bounds it (< 250 ms at a 10 ms quantum)
   and expects starvation (> 500 ms) without the shim.

   With the argument "idle" the program only sleeps 2 s: the runner bounds the monitor's
   wakes in the stats (parked: about one a second; a monitor that only backed off on the
   thread would wake every 50 ms, ~45 times).

   Links systhreads, whose initialisation replaces the runtime's blocking-section hooks
   without chaining them: the shim must chain its own again, and must not trust what its
   hooks recorded before the replacement. *)

let () =
  Tcommon.main "park_resume" @@ fun () ->
  ignore (Thread.self ());
  let idle = Array.length Sys.argv > 1 && Sys.argv.(1) = "idle" in
  if idle then begin
    Sched.run (fun () -> Sched.fork (fun () -> Unix.sleepf 2.0));
    Tcommon.result (("slept_s", "2") :: Tcommon.sched_counters ())
  end
  else begin
    let worst = ref 0. and ticks = ref 0 and chunks = ref 0 in
    for _cycle = 1 to 2 do
      let t, c =
        Kernels.hog_beside_ticker ~before:(fun () -> Unix.sleepf 0.5) ~seconds:0.6 ()
      in
      if t.worst > !worst then worst := t.worst;
      ticks := !ticks + t.ticks;
      chunks := !chunks + c
    done;
    Tcommon.result
      ([ ("worst_gap_ms", Tcommon.ms !worst); ("ticks", Tcommon.i !ticks);
         ("hog_chunks", Tcommon.i !chunks) ]
      @ Tcommon.sched_counters ())
  end
