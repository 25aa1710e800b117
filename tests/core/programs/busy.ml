(* Busy: CPU work for a given wall time, for the critical-extent programs.

   [for_seconds s] spins (Kernels.spin chunks, non-allocating, with poll points) until s
   seconds of wall time have passed and returns the number of chunks, each checked
   against the main fiber's result. [flag] is set while it runs, so that the scheduler's
   on_yield hook can fail the program if a yield lands inside. *)

let for_seconds ?(flag = ref false) seconds =
  flag := true;
  let deadline = Tcommon.now () +. seconds in
  let chunks = ref 0 in
  while Tcommon.now () < deadline do
    let j = !chunks land 3 in
    let v = Kernels.spin Kernels.seeds.(j) 20_000 in
    if v <> Kernels.spin Kernels.seeds.(j) 20_000 then Tcommon.fail "busy: spin differs";
    incr chunks
  done;
  flag := false;
  !chunks

(* An on_yield policy that fails the program when a yield arrives while any of [flags]
   is set: the shim preempted code it must not. *)
let refuse_inside (flags : (string * bool ref) list) ~fiber ~nth:_ =
  List.iter
    (fun (what, f) ->
      if !f then Tcommon.fail "fiber %d yielded inside %s (a critical extent)" fiber what)
    flags;
  Sched.Continue
