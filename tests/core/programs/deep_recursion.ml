(* deep_recursion: preemption deep inside non-tail recursion, while fiber stacks grow.

   Each round forks fresh fibers (fiber stacks start small) that recurse 100k+ frames
   deep without tail calls, so their stacks are reallocated and copied several times
   as they grow, and preemptions land at every depth: in the middle of a frame, at the
   function prologue's stack check, on the way down and on the way back up. Three
   recursions:
   - [sum n]: n + sum (n-1), checked against n(n+1)/2;
   - [mix]: five live values per frame (ints and a float) carried across the
     recursive call, so every frame has spilled slots the stack copy must preserve;
     checked against the main fiber's result;
   - [build]: allocates a list cell on the way back up, holding (i, float i) pairs;
     checked element by element.
   A preemption or stack reallocation that corrupts a frame, loses a return address
   or a GC root gives a wrong result or a crash. *)

let rec sum n = if n = 0 then 0 else n + sum (n - 1)

let rec mix n a b c (f : float) =
  if n = 0 then a + (3 * b) + (7 * c) + int_of_float f
  else
    let r = mix (n - 1) (a + 1) (b lxor n) ((c * 3) land 0xFFFF) (f +. 0.5) in
    (* a, b, c, f and n are live across the call: kept in this frame *)
    r + a - b + (c lxor n) + int_of_float (f *. 2.)

let rec build n = if n = 0 then [] else (n, float_of_int n) :: build (n - 1)

let check_build depth l =
  let rec go i = function
    | [] -> if i <> 0 then Tcommon.fail "build %d: list ends early at %d" depth i
    | (j, f) :: rest ->
      if j <> i || Int64.bits_of_float f <> Int64.bits_of_float (float_of_int i) then
        Tcommon.fail "build %d: element %d is (%d, %h)" depth i j f;
      go (i - 1) rest
  in
  go depth l

let () =
  Tcommon.main "deep_recursion" @@ fun () ->
  let scale = Tcommon.scale () in
  let depths = [| 100_000; 150_000; 200_000; 120_000 |] in
  (* main-fiber references *)
  let mix_ref = Array.map (fun d -> mix d 1 2 3 0.25) depths in
  let rounds = 6 * scale and per_round = 4 in
  let runs = ref 0 in
  Sched.run (fun () ->
      for r = 0 to rounds - 1 do
        let finished = ref 0 in
        for f = 0 to per_round - 1 do
          Sched.fork (fun () ->
              let j = (r + f) mod Array.length depths in
              let d = depths.(j) in
              let s = sum d in
              if s <> d * (d + 1) / 2 then Tcommon.fail "sum %d = %d" d s;
              let m = mix d 1 2 3 0.25 in
              if m <> mix_ref.(j) then
                Tcommon.fail "mix %d = %d, main fiber computed %d" d m mix_ref.(j);
              check_build d (build d);
              incr runs;
              incr finished)
        done;
        (* wait for this round's fibers, so that every round starts fresh stacks *)
        while !finished < per_round do Sched.pause () done
      done);
  if !runs <> rounds * per_round then
    Tcommon.fail "%d of %d recursion fibers finished" !runs (rounds * per_round);
  Tcommon.result
    ([ ("fibers", Tcommon.i !runs); ("max_depth", Tcommon.i (Array.fold_left max 0 depths)) ]
    @ Tcommon.sched_counters ())
