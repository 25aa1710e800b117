(* oom_exit: the program exhausts its address space (run under `ulimit -v`), catches
   Out_of_memory, and exits 0 while the memory is still held.

   Phase 1 runs checked kernels in fibers long enough to be preempted, so the shim has
   hog sites to report. Phase 2 (main fiber) allocates major-heap arrays, halving the size
   at each Out_of_memory down to just above the minor-heap limit, and keeps them all: at
   exit malloc can no longer succeed. The at-exit stats report must still print (it may not
   allocate or parse DWARF: issue 9 item 8).

   Argument "uncaught": phase 2 lets the first Out_of_memory escape instead (expected
   outcome: the runtime's "Fatal error: exception Out_of_memory", exit 2). *)

let exhaust ~catch =
  let hoard = Array.make 1_000_000 [||] and kept = ref 0 and words = ref 0 in
  let size = ref (1 lsl 20) and caught = ref 0 in
  while !size > 256 && !kept < Array.length hoard do
    match Array.make !size 0 with
    | block ->
      hoard.(!kept) <- block;
      incr kept;
      words := !words + !size
    | exception Out_of_memory when catch ->
      incr caught;
      size := !size / 2
  done;
  (Sys.opaque_identity hoard, !caught, !words)

let phase1 () =
  let k = Kernels.std_poll and seeds = Kernels.seeds in
  let refs = Kernels.references k seeds in
  let completed = Array.make 3 0 in
  Sched.run (fun () ->
      Kernels.fork_checked_fibers k refs ~nfibers:2 ~rounds:40 completed;
      Sched.fork (fun () ->
          Fault_common.checked_until_preempted k refs ~n:3;
          completed.(2) <- 40));
  Kernels.check_completed "phase 1" completed ~rounds:40

let () =
  if Array.length Sys.argv > 1 && Sys.argv.(1) = "uncaught" then begin
    (* not under Tcommon.main, which would catch it *)
    Tcommon.name := "oom_exit";
    phase1 ();
    ignore (exhaust ~catch:false)
  end;
  Tcommon.main "oom_exit" @@ fun () ->
  phase1 ();
  let _hoard, caught, words = exhaust ~catch:true in
  if caught = 0 then Tcommon.fail "no Out_of_memory after %d MB (run under ulimit -v)"
      (words / 131072);
  Tcommon.result
    ([ ("out_of_memory", Tcommon.i caught); ("held_mb", Tcommon.i (words / 131072)) ]
    @ Tcommon.sched_counters ())
