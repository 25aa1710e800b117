(* lazy_force: a fiber preempted while it forces a lazy value.

   Fiber A forces [shared], whose thunk computes for ~300 ms (user code, with poll
   points; CamlinternalLazy.force_lazy_block is on the stack above it). Fiber B, forked
   right after, forces the same value. Without preemption A finishes the thunk before B
   runs. Preempted inside the thunk (as the shim did when it looked at the innermost frame
   only), B finds the block being forced and gets CamlinternalLazy.Undefined. The on_yield
   hook also fails the program on any yield inside the thunk. Then both fibers hog outside
   any extent for ~200 ms, where preemptions must still land (runner: preemptions >= 1,
   skip_extent >= 1). *)

let () =
  Tcommon.main "lazy_force" @@ fun () ->
  let scale = Tcommon.scale () in
  let in_thunk = ref false in
  let shared =
    lazy
      (let n = Busy.for_seconds ~flag:in_thunk (0.3 *. float_of_int scale) in
       Tcommon.fake_yield ();
       n + 1)
  in
  let got = Array.make 2 0 and undefined = ref 0 and outside = ref 0 in
  let force_in_fiber i () =
    (match Lazy.force shared with
     | v -> got.(i) <- v
     | exception CamlinternalLazy.Undefined -> incr undefined);
    outside := !outside + Busy.for_seconds 0.1
  in
  Sched.run ~on_yield:(Busy.refuse_inside [ ("a lazy thunk", in_thunk) ]) (fun () ->
      Sched.fork (force_in_fiber 0);
      Sched.fork (force_in_fiber 1));
  if !undefined > 0 then
    Tcommon.fail "%d fiber(s) got CamlinternalLazy.Undefined forcing a shared lazy" !undefined;
  if got.(0) <> got.(1) || got.(0) < 1 then
    Tcommon.fail "the fibers saw different values: %d and %d" got.(0) got.(1);
  Tcommon.result
    ([ ("undefined", Tcommon.i !undefined); ("outside_chunks", Tcommon.i !outside) ]
    @ Tcommon.sched_counters ())
