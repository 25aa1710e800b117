(* alloc_loop: preemption at allocation points.

   Several fibers repeatedly run Kernels.alloc_kernel (tuples, a combined two-block
   allocation, closures, lists, flat float records, arrays, options, kept records
   re-verified later) and compare each result with the main fiber's. The loop
   allocates on every iteration, so the compiler puts no poll in it: preemptions land
   at allocations (preempt_alloc >= 1 with the shim). A preemption that resumes an
   allocation wrongly (allocation pointer not re-checked, a block half-initialised,
   a young pointer held in a register not seen by the GC) corrupts the kept
   structures or the checksum. *)

let () =
  Tcommon.main "alloc_loop" @@ fun () ->
  let scale = Tcommon.scale () in
  let k = { Kernels.kname = "alloc"; run = Kernels.alloc_kernel; iters = 20_000 } in
  let refs = Kernels.references k Kernels.seeds in
  let nfibers = 4 and rounds = 200 * scale in
  let completed = Array.make nfibers 0 in
  Sched.run (fun () -> Kernels.fork_checked_fibers k refs ~nfibers ~rounds completed);
  Kernels.check_completed "alloc" completed ~rounds;
  Tcommon.result
    ([ ("fibers", Tcommon.i nfibers); ("kernel_runs", Tcommon.i (nfibers * rounds)) ]
    @ Tcommon.sched_counters ())
