(* poll_loop: preemption at poll points of non-allocating loops under register
   pressure.

   Several fibers repeatedly run Kernels.poll_kernel (12 tagged ints, 4 unboxed
   int64, 2 unboxed nativeint, 2 loop counters live at once, so both registers and
   stack slots hold live values at the loop's poll point) and compare each result
   with the main fiber's. A preemption that loses or clobbers any register or spill
   slot, or that makes the GC treat an untagged int64 as a pointer, changes a
   checksum (or crashes). No fiber yields voluntarily: with the shim every switch is a
   preemption at a poll (preempt_poll >= 1); without it the fibers run one after the
   other. *)

let () =
  Tcommon.main "poll_loop" @@ fun () ->
  let scale = Tcommon.scale () in
  let k = { Kernels.kname = "poll"; run = Kernels.poll_kernel; iters = 40_000 } in
  let refs = Kernels.references k Kernels.seeds in
  let nfibers = 4 and rounds = 200 * scale in
  let completed = Array.make nfibers 0 in
  Sched.run (fun () -> Kernels.fork_checked_fibers k refs ~nfibers ~rounds completed);
  Kernels.check_completed "poll" completed ~rounds;
  Tcommon.result
    ([ ("fibers", Tcommon.i nfibers); ("kernel_runs", Tcommon.i (nfibers * rounds)) ]
    @ Tcommon.sched_counters ())
