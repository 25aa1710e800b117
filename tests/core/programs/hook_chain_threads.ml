(* hook_chain_threads: hook_chain under systhreads. Once the threads exist (systhreads'
   hooks installed, the shim's re-chained above them), a library chains the hooks the
   usual way (HOOK_CHAIN=interrupt | blocking | minor_gc_end), then two threads run
   schedulers whose fibers allocate and sleep now and then (blocking sections). The
   shim's hook, re-chained above the library's, must still call systhreads' through it:
   adversary, issue 20: the first guard dropped it ("Fatal error: no domain lock held" for
   the blocking hooks; for the interrupt hook, no thread switch and no preemption). *)

external chain_minor_gc_end : unit -> unit = "hook_chain_minor_gc_end"
external chain_interrupt : unit -> unit = "hook_chain_interrupt"
external chain_blocking : unit -> unit = "hook_chain_blocking"
external calls : unit -> int = "hook_chain_calls"

let () =
  Tcommon.main "hook_chain_threads" @@ fun () ->
  let which = Option.value (Sys.getenv_opt "HOOK_CHAIN") ~default:"interrupt" in
  let k = Kernels.std_alloc in
  let refs = Kernels.references k Kernels.seeds in
  let rounds = 60 * Tcommon.scale () in
  let worker () =
    let completed = Array.make 2 0 in
    Sched.run (fun () ->
        Kernels.fork_checked_fibers k refs ~nfibers:2 ~rounds completed;
        Sched.fork (fun () -> for _ = 1 to 20 do Unix.sleepf 0.001; Sched.yield () done));
    Kernels.check_completed "alloc" completed ~rounds
  in
  let early = Thread.create (fun () -> Unix.sleepf 0.01) () in
  Thread.join early;
  (match which with
   | "minor_gc_end" -> chain_minor_gc_end ()
   | "interrupt" -> chain_interrupt ()
   | "blocking" -> chain_blocking ()
   | w -> Tcommon.fail "unknown HOOK_CHAIN %s" w);
  let t1 = Thread.create worker () and t2 = Thread.create worker () in
  worker ();
  Thread.join t1;
  Thread.join t2;
  Tcommon.result
    ([ ("hook", which); ("library_hook_calls", Tcommon.i (calls ())) ]
    @ Tcommon.sched_counters ())
