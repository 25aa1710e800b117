(* fake_tick: the shim's requests neither create nor erase a systhreads tick
   (deterministic: see fake_tick_stubs.c, which plays systhreads' tick thread and hook).

   Two hog fibers under Sched run allocating loops (a fixed number of iterations x scale),
   overdue at every quantum, so the shim requests a preemption at every quantum (or, in
   chaos mode, trips at its firings); each request's call of the hook chain posts a fake
   tick between "systhreads' hook" and the shim's. RESULT: ticks posted, kept (seen again
   with the tick's value), erased (overwritten: the shim stored 0, or chaos its 2),
   phantoms (a 1 the fake did not write: a request systhreads would take for its tick).
   With FAKE_TICK_KICK=1 the program itself stands in for the requests (runs without the
   shim). *)

external install : unit -> unit = "core_fake_tick_install"
external age : unit -> unit = "core_fake_tick_age" [@@noalloc]
external kick : unit -> unit = "core_fake_tick_kick" [@@noalloc]
external counts : unit -> int * int * int * int * int = "core_fake_tick_counts"

let () =
  Tcommon.main "fake_tick" @@ fun () ->
  install ();
  let iters = 40_000_000 * Tcommon.scale () in
  let kicks = Sys.getenv_opt "FAKE_TICK_KICK" = Some "1" in
  let hog () =
    for i = 1 to iters do
      ignore (Sys.opaque_identity (ref i));
      age ();
      if kicks && i land 4095 = 0 then kick ()
    done
  in
  Sched.run (fun () -> Sched.fork hog; Sched.fork hog);
  let posted, kept, erased, phantoms, calls = counts () in
  Tcommon.result
    ([ ("posted", Tcommon.i posted); ("kept", Tcommon.i kept); ("erased", Tcommon.i erased);
       ("phantoms", Tcommon.i phantoms); ("hook_calls", Tcommon.i calls) ]
    @ Tcommon.sched_counters ())
