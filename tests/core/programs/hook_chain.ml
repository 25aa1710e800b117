(* hook_chain: a library chains the runtime's hooks the usual way, saving the one it
   displaces and calling it from its own (ocaml-boxroot does so with
   caml_minor_gc_end_hook), after the shim chained its own: HOOK_CHAIN=minor_gc_end |
   interrupt | blocking. The shim re-chains its hooks on top, so ours and the library's
   call each other: each must run once per runtime call (adversary, issue 20: mutual
   recursion until SIGSEGV at the first minor collection, on the interrupt hook without
   self-clocking too; then a guard that cut systhreads' own hooks off, "Fatal error: no
   domain lock held", no thread switch).
   HOOK_THREADS=0 (default): fibers allocating under one scheduler on the main thread.
   HOOK_THREADS=1: the library chains once systhreads' hooks are installed and ours
   re-chained above them, then three threads run schedulers whose fibers allocate and
   sleep now and then (blocking sections).
   Checked: the program finishes, its results are right, the library's hook ran. *)

external chain_minor_gc_end : unit -> unit = "hook_chain_minor_gc_end"
external chain_interrupt : unit -> unit = "hook_chain_interrupt"
external chain_blocking : unit -> unit = "hook_chain_blocking"
external calls : unit -> int = "hook_chain_calls"

let chain = function
  | "minor_gc_end" -> chain_minor_gc_end ()
  | "interrupt" -> chain_interrupt ()
  | "blocking" -> chain_blocking ()
  | w -> Tcommon.fail "unknown HOOK_CHAIN %s" w

let () =
  Tcommon.main "hook_chain" @@ fun () ->
  let which = Option.value (Sys.getenv_opt "HOOK_CHAIN") ~default:"minor_gc_end" in
  let threads = Sys.getenv_opt "HOOK_THREADS" = Some "1" in
  let k = Kernels.std_alloc in
  let refs = Kernels.references k Kernels.seeds in
  let rounds = (if threads then 60 else 100) * Tcommon.scale () in
  let worker nfibers () =
    let completed = Array.make nfibers 0 in
    Sched.run (fun () ->
        Kernels.fork_checked_fibers k refs ~nfibers ~rounds completed;
        if threads then
          Sched.fork (fun () -> for _ = 1 to 20 do Unix.sleepf 0.001; Sched.yield () done));
    Kernels.check_completed "alloc" completed ~rounds
  in
  if threads then begin
    Thread.join (Thread.create (fun () -> Unix.sleepf 0.01) ());
    chain which;
    let t1 = Thread.create (worker 2) () and t2 = Thread.create (worker 2) () in
    worker 2 ();
    Thread.join t1;
    Thread.join t2
  end
  else begin
    chain which;
    worker 3 ()
  end;
  Tcommon.result
    ([ ("hook", which); ("library_hook_calls", Tcommon.i (calls ())) ]
    @ Tcommon.sched_counters ())
