(* callback_finaliser: a finaliser (a C-to-OCaml callback) runs on top of a hog fiber.

   The runtime runs finalisers, memprof callbacks and OCaml signal handlers as callbacks
   on the current fiber's stack, with the stack's parent cleared
   (alloc_and_clear_stack_parent in 5.3's runtime/callback.c): an effect performed there
   is unhandled. A preemption must never land inside one, and the refusal must not stick:
   the shim once took such a fiber for the thread's main fiber, and the sampler then never
   asked for it again (the hog ran unpreempted for good).

   The hog fiber triggers a ~50 ms finaliser (Gc.full_major runs it on the hog's stack),
   then hogs for ~600 ms beside a ticker. The on_yield hook fails on a yield inside the
   finaliser. Reported: how often the ticker ran after the finaliser ended, and its worst
   gap between two of those turns (runner: >= 10 turns and < 250 ms at 1 ms with the shim,
   the finaliser itself excluded; without preemption, or with a refusal that sticks, the
   ticker gets its next turn only when the hog has finished). *)

let in_finaliser = ref false
let finalised = ref 0

let[@inline never] make_garbage () =
  let r = ref (Array.make 16 0) in
  Gc.finalise
    (fun _ ->
      ignore (Busy.for_seconds ~flag:in_finaliser 0.05);
      incr finalised)
    r;
  ()

let () =
  Tcommon.main "callback_finaliser" @@ fun () ->
  let scale = Tcommon.scale () in
  let hog_done = ref false and finaliser_end = ref infinity in
  let last = ref (Tcommon.now ()) and worst_after = ref 0. and ticks_after = ref 0 in
  let rec ticker () =
    let n = Tcommon.now () in
    if n > !finaliser_end then begin
      (* the first turn after the finaliser waited for it: not counted in the gap *)
      if !ticks_after > 0 && n -. !last > !worst_after then worst_after := n -. !last;
      incr ticks_after
    end;
    last := n;
    if not !hog_done then begin
      Sched.pause ();
      ticker ()
    end
  in
  Sched.run ~on_yield:(Busy.refuse_inside [ ("a finaliser", in_finaliser) ]) (fun () ->
      Sched.fork ticker;
      Sched.fork (fun () ->
          make_garbage ();
          Gc.full_major ();
          Gc.full_major ();
          finaliser_end := Tcommon.now ();
          ignore (Busy.for_seconds (0.6 *. float_of_int scale));
          hog_done := true));
  if !finalised <> 1 then Tcommon.fail "the finaliser ran %d times, want 1" !finalised;
  if !ticks_after < 1 then Tcommon.fail "the ticker never ran after the finaliser";
  if !ticks_after = 1 then
    Tcommon.fail "the ticker ran only once after the finaliser: the hog was not preempted";
  Tcommon.result
    ([ ("worst_gap_after_ms", Tcommon.ms !worst_after);
       ("ticks_after", Tcommon.i !ticks_after) ]
    @ Tcommon.sched_counters ())
