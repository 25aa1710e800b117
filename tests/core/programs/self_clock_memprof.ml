(* self_clock_memprof: allocating fibers under a dense Gc.Memprof (issue 20, adversary F2).

   Four fibers run Kernels.alloc_kernel (checked against the main fiber's results) while
   Gc.Memprof samples about one word in a hundred, its tracker allocating a record per
   sample. Each sample resets young_limit; a self-clock that kept its interrupt posted
   had the hook called at every sample (2 M calls per CPU second, the program 2.5x
   slower). The runner bounds self_clock_trips per CPU second and checks that the fibers
   are still preempted. A runtime without memprof sampling (5.1, 5.2) exits 77 (skip). *)

let () =
  Tcommon.main "self_clock_memprof" @@ fun () ->
  let scale = Tcommon.scale () in
  let k = { Kernels.kname = "alloc"; run = Kernels.alloc_kernel; iters = 20_000 } in
  let refs = Kernels.references k Kernels.seeds in
  let samples = ref 0 in
  let tracker =
    { Gc.Memprof.null_tracker with
      alloc_minor = (fun info -> incr samples; Some (info.Gc.Memprof.n_samples, !samples)) }
  in
  let profile =
    try Gc.Memprof.start ~sampling_rate:0.01 ~callstack_size:4 tracker
    with Failure _ | Invalid_argument _ ->
      print_endline "skip: Gc.Memprof does not sample on this runtime";
      exit 77
  in
  let nfibers = 4 and rounds = 100 * scale in
  let completed = Array.make nfibers 0 in
  Sched.run (fun () -> Kernels.fork_checked_fibers k refs ~nfibers ~rounds completed);
  Gc.Memprof.stop ();
  ignore (Sys.opaque_identity profile);
  Kernels.check_completed "alloc" completed ~rounds;
  if !samples < 1000 then Tcommon.fail "memprof sampled %d allocations (want >= 1000)" !samples;
  Tcommon.result
    ([ ("fibers", Tcommon.i nfibers); ("samples", Tcommon.i !samples) ]
    @ Tcommon.sched_counters ())
