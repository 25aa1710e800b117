(* float_loop: preemption with many live unboxed floats.

   Several fibers repeatedly run Kernels.float_kernel (8 chaotic logistic maps and 8
   accumulators, unboxed, more than the 16 xmm registers: some live in xmm registers,
   some in stack slots across the loop's poll point) and compare the bits of every
   result (Int64.bits_of_float) with the main fiber's. A preemption path that saves
   only the integer registers, or clobbers an xmm register (e.g. C code run in the
   middle of the fiber without saving them), diverges the chaotic maps and changes
   the bits. *)

let () =
  Tcommon.main "float_loop" @@ fun () ->
  let scale = Tcommon.scale () in
  let k = { Kernels.kname = "float"; run = Kernels.float_kernel; iters = 60_000 } in
  let refs = Kernels.references k Kernels.seeds in
  let nfibers = 4 and rounds = 250 * scale in
  let completed = Array.make nfibers 0 in
  Sched.run (fun () -> Kernels.fork_checked_fibers k refs ~nfibers ~rounds completed);
  Kernels.check_completed "float" completed ~rounds;
  Tcommon.result
    ([ ("fibers", Tcommon.i nfibers); ("kernel_runs", Tcommon.i (nfibers * rounds)) ]
    @ Tcommon.sched_counters ())
