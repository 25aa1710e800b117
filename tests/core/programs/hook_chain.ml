(* hook_chain: a library chains caml_minor_gc_end_hook (or, HOOK_CHAIN=interrupt, the
   external-interrupt hook) the usual way, saving the shim's hook and calling it from its
   own, while fibers allocate and are preempted. The shim re-chains its hooks on top, so
   each calls the other: it must run the library's hook and its own once per call, not
   recurse until the stack overflows (adversary, issue 20: SIGSEGV at the first minor
   collection). Checked: the program finishes, the library's hook ran. *)

external chain_minor_gc_end : unit -> unit = "hook_chain_minor_gc_end"
external chain_interrupt : unit -> unit = "hook_chain_interrupt"
external calls : unit -> int = "hook_chain_calls"

let () =
  Tcommon.main "hook_chain" @@ fun () ->
  let which = Option.value (Sys.getenv_opt "HOOK_CHAIN") ~default:"minor_gc_end" in
  (match which with
   | "minor_gc_end" -> chain_minor_gc_end ()
   | "interrupt" -> chain_interrupt ()
   | w -> Tcommon.fail "unknown HOOK_CHAIN %s" w);
  let k = Kernels.std_alloc in
  let refs = Kernels.references k Kernels.seeds in
  let nfibers = 3 and rounds = 100 * Tcommon.scale () in
  let completed = Array.make nfibers 0 in
  Sched.run (fun () -> Kernels.fork_checked_fibers k refs ~nfibers ~rounds completed);
  Kernels.check_completed "alloc" completed ~rounds;
  Tcommon.result
    ([ ("hook", which); ("library_hook_calls", Tcommon.i (calls ())) ]
    @ Tcommon.sched_counters ())
