(* fork_in_hook: a C thread (no OCaml) forks N children (argument, default 300), one a
   millisecond, while two domains' fibers are preempted at a short quantum, so that some
   forks happen while a domain's thread is inside the interrupt hook. Only the forking
   thread exists in a child, which exits at once with exit(): the shim's at-exit handler
   must not wait for the hook of a thread that is not there. Prints the number of forks,
   failed children and the worst child lifetime. *)

external start_forker : int -> bool = "fault_start_forker"
external forker_finished : unit -> bool = "fault_forker_finished"
external forker_counts : unit -> int * int * int = "fault_forker_counts"

let () =
  Tcommon.main "fork_in_hook" @@ fun () ->
  let n = try int_of_string Sys.argv.(1) with _ -> 300 in
  let stop = Atomic.make false in
  let hog () =
    Sched.run (fun () ->
        for _ = 1 to 3 do
          Sched.fork (fun () ->
              while not (Atomic.get stop) do ignore (Kernels.spin 3 10_000) done)
        done)
  in
  let domains = List.init 2 (fun _ -> Domain.spawn hog) in
  if not (start_forker n) then Tcommon.fail "cannot start the forking thread";
  let deadline = Unix.gettimeofday () +. 100. in
  while not (forker_finished ()) do
    if Unix.gettimeofday () > deadline then Tcommon.fail "the forks took over 100 s";
    Unix.sleepf 0.05
  done;
  Atomic.set stop true;
  List.iter Domain.join domains;
  let forks, failed, worst_us = forker_counts () in
  Tcommon.result
    ([ ("forks", Tcommon.i forks); ("failed", Tcommon.i failed);
       ("worst_child_ms", Tcommon.ms (float_of_int worst_us *. 1e-6)) ]
    @ Tcommon.sched_counters ())
