(* fiber_start_tail: fibers whose every frame is Stdlib code or glue, started by a scheduler
   that leaves no frame of its own on any stack (Tail_sched: tail calls only, as Picos').

   The workers are [fun () -> List.iter (Array.iter leaf) reps], as in fiber_start. Their
   starter must be named by their handler's code (Tail_sched's retc), not by the first frame
   on the parent side, which is this program's own code (the caller of Tail_sched.run):
   with OCPREEMPT_DENY=+Tail_sched they must not be preempted (before: they were, as Picos'
   fibers starting in caml_curry4_3 were, and Terminate escaped); with Tail_sched as the
   program's own plain unit they are. Reported: [workers_preempted], the yields the
   scheduler got (the workers never yield by themselves). *)

let count = ref 0
let leaf x = count := !count + x

let () =
  Tcommon.main "fiber_start_tail" @@ fun () ->
  let scale = Tcommon.scale () in
  let a = Array.make 100_000 1 in
  let reps = List.init (50 * scale) (fun _ -> a) in
  let workers = 20 in
  Tail_sched.run_fiber (fun () ->
      for _ = 1 to workers do
        Tail_sched.spawn (fun () -> List.iter (Array.iter leaf) reps)
      done;
      (* the main fiber's yields are voluntary: not counted as the workers' *)
      while !count < workers * Array.length a * List.length reps do
        Effect.perform Tail_sched.Yield;
        decr Tail_sched.yields
      done);
  if !count <> workers * Array.length a * List.length reps then
    Tcommon.fail "the workers counted %d" !count;
  Tcommon.result [ ("workers_preempted", Tcommon.i !Tail_sched.yields) ]
