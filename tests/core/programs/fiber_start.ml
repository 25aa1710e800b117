(* fiber_start: fibers whose every frame is Stdlib code or compiler glue (issue 15 item 0).

   Each worker fiber is [fun () -> List.iter (Array.iter leaf) reps] (reps: the same array,
   50 times): the closure tail-calls List.iter, which calls a partial application, so the
   fiber's stack holds List.iter, caml_curry glue and Array.iter, and those hold its safe
   points ([leaf] has none). No frame of the
   fiber is the program's: a transparent frame takes the verdict of its nearest caller,
   and with none left in the fiber, of whoever started it (shim/landing/fiber_starter.h): Sched's
   spawn, through Stdlib__Effect's match_with. Sched is the program's own unit, so the
   workers are preempted (the default); with OCPREEMPT_DENY=+Sched it is a scheduler the
   user declared, like Eio's or Picos', and the workers must not be preempted (Eio's
   Fiber.fork starts a fiber in Fun.protect before its `finally` is armed).
   Reported: [workers_preempted], the yields the scheduler got from the workers (they
   never yield by themselves), beside a ticker fiber that pauses. *)

let sink = ref 0
let count = ref 0
let leaf x = count := !count + x

let () =
  Tcommon.main "fiber_start" @@ fun () ->
  let scale = Tcommon.scale () in
  let a = Array.make 100_000 1 in
  let reps = List.init (50 * scale) (fun _ -> a) in
  let workers = 20 in
  let worker_ids = Array.make (workers + 2) false in
  let preempted = ref 0 and done_ = ref false in
  let on_yield ~fiber ~nth:_ =
    if fiber < Array.length worker_ids && worker_ids.(fiber) then incr preempted;
    Sched.Continue
  in
  Sched.run ~on_yield (fun () ->
      (* fiber ids: 0 is this one, then 1.. in fork order *)
      for i = 1 to workers do
        worker_ids.(i) <- true;
        Sched.fork (fun () -> List.iter (Array.iter leaf) reps)
      done;
      Sched.fork (fun () ->
          while not !done_ do
            sink := !sink + Kernels.spin Kernels.seeds.(0) 2_000;
            Sched.pause ()
          done);
      (* the workers ran once the ticker stops finding them in the queue: wait for all *)
      let expected = workers * Array.length a * List.length reps in
      while !count < expected do Sched.pause () done;
      done_ := true);
  if !count <> workers * Array.length a * List.length reps then
    Tcommon.fail "the workers counted %d" !count;
  Tcommon.result
    ([ ("workers_preempted", Tcommon.i !preempted) ] @ Tcommon.sched_counters ())
