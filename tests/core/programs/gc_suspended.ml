(* gc_suspended: GC (minor, major, compaction) while fibers are preempted or
   suspended.

   Worker fibers allocate heavily and keep what they allocate: each owns an array of
   slots holding lists of self-describing objects (every field is a function of the
   object's id, so [verify] can recheck any object at any time). Each iteration
   re-verifies a slot's old contents and replaces them. Worker 0 calls Gc.minor,
   worker 1 Gc.full_major, worker 2 Gc.compact, periodically; they also yield
   voluntarily from time to time.

   Sleeper fibers build structures (a list, a hashtable, and a non-tail recursion 300
   frames deep that keeps one object per frame on the stack, plus an unboxed float
   and an int64 in local variables), then stay suspended at the bottom of that
   recursion until the workers are done, re-verifying everything whenever they are
   resumed and once more on the way back up.

   What can go wrong: the GC must scan the stacks of preempted and suspended fibers
   and the registers saved at the preemption point; minor GC must promote what they
   point to, compaction must move objects and update every such pointer. A missed
   root shows up as a verify failure (garbage fields), a crash, or (with the debug
   runtime, gc_suspended_d, and OCAMLRUNPARAM=V=1) a heap-verification abort. The
   final contents of the workers' slots are also compared with a closed-form replay
   of which iteration last wrote each slot. *)

type obj = {
  id : int;
  name : string;
  floats : float array;
  boxed : int64;
  kids : obj list;
}

let rec make id depth =
  {
    id;
    name = "obj" ^ string_of_int id;
    floats = [| float_of_int id; float_of_int id *. 0.5; sqrt (float_of_int id) |];
    boxed = Int64.mul (Int64.of_int id) 7L;
    kids =
      (if depth > 0 && id land 3 = 0 then
         [ make ((id * 2) + 1) (depth - 1); make ((id * 2) + 2) (depth - 1) ]
       else []);
  }

(* Recomputes every field from the id; returns the number of objects checked. *)
let rec verify where o =
  let fi = float_of_int o.id in
  if o.name <> "obj" ^ string_of_int o.id then
    Tcommon.fail "%s: object %d has name %S" where o.id o.name;
  if Array.length o.floats <> 3
     || Int64.bits_of_float o.floats.(0) <> Int64.bits_of_float fi
     || Int64.bits_of_float o.floats.(1) <> Int64.bits_of_float (fi *. 0.5)
     || Int64.bits_of_float o.floats.(2) <> Int64.bits_of_float (sqrt fi)
  then Tcommon.fail "%s: object %d has corrupted floats" where o.id;
  if o.boxed <> Int64.mul (Int64.of_int o.id) 7L then
    Tcommon.fail "%s: object %d has boxed %Ld" where o.id o.boxed;
  let expect_kids = if o.id land 3 = 0 then 2 else 0 in
  (* depth is not stored: a leaf made at depth 0 has no kids even if id land 3 = 0 *)
  let n = List.length o.kids in
  if n <> 0 && n <> expect_kids then
    Tcommon.fail "%s: object %d has %d kids" where o.id n;
  List.iteri
    (fun j k ->
      if k.id <> (o.id * 2) + 1 + j then
        Tcommon.fail "%s: object %d kid %d has id %d" where o.id j k.id)
    o.kids;
  List.fold_left (fun acc k -> acc + verify where k) 1 o.kids

let nslots = 2048
let slot_of i = (i * 2654435761) land (nslots - 1) (* a bijection on i mod nslots *)
let objs_of i = 1 + (i land 7)
let id_of w i j = (w lsl 40) lor (i lsl 4) lor j

let worker w ~iters ~gc ~gc_every ~verified ~result () =
  let live = Array.make nslots [] in
  for i = 1 to iters do
    let s = slot_of i in
    List.iter (fun o -> verified := !verified + verify "worker slot" o) live.(s);
    live.(s) <- List.init (objs_of i) (fun j -> make (id_of w i j) 2);
    if i mod gc_every = 0 then gc ();
    if i mod 1500 = 0 then Sched.pause ()
  done;
  let sum = ref 0 in
  Array.iter
    (List.iter (fun o ->
         verified := !verified + verify "worker final" o;
         sum := !sum + o.id))
    live;
  result := !sum

(* The sum of the ids left in the slots, computed without allocating anything: the
   last iteration <= iters that wrote each slot. *)
let expected_sum w ~iters =
  let sum = ref 0 in
  for i = max 1 (iters - nslots + 1) to iters do
    for j = 0 to objs_of i - 1 do
      sum := !sum + id_of w i j
    done
  done;
  !sum

let sleeper s ~workers_done ~verified ~wakeups () =
  let base = (s + 100) lsl 40 in
  let lst = List.init 3000 (fun j -> make (base + j) 1) in
  let tbl = Hashtbl.create 1024 in
  for j = 0 to 999 do
    Hashtbl.replace tbl ("k" ^ string_of_int j) (make (base + 5000 + j) 2)
  done;
  let check_all where =
    List.iter (fun o -> verified := !verified + verify where o) lst;
    Hashtbl.iter
      (fun k o ->
        if k <> "k" ^ string_of_int (o.id - base - 5000) then
          Tcommon.fail "%s: hashtable key %S maps to object %d" where k o.id;
        verified := !verified + verify where o)
      tbl
  in
  (* non-tail recursion: each frame keeps its object (a heap pointer) on the stack *)
  let rec deep n =
    if n = 0 then begin
      let fl = ref (float_of_int s *. 1.25) (* unboxed, in a register/stack slot *) in
      let b = Sys.opaque_identity (Int64.of_int (s * 1_000_003)) in
      while not !workers_done do
        Sched.pause ();
        incr wakeups;
        fl := !fl +. 1.0;
        if !wakeups mod 8 = 0 then check_all "sleeper (suspended)"
      done;
      if b <> Int64.of_int (s * 1_000_003) then Tcommon.fail "sleeper: stack int64 corrupted";
      if !fl < float_of_int s *. 1.25 then Tcommon.fail "sleeper: stack float corrupted";
      0
    end
    else begin
      let o = make (base + 20000 + n) 1 in
      let r = deep (n - 1) in
      verified := !verified + verify "sleeper stack frame" o;
      r + 1
    end
  in
  if deep 300 <> 300 then Tcommon.fail "sleeper: recursion returned a wrong depth";
  check_all "sleeper (end)"

let () =
  Tcommon.main "gc_suspended" @@ fun () ->
  let scale = Tcommon.scale () in
  let iters = 16_000 * scale in
  let gcs =
    [| ("minor", Gc.minor, 200);
       ("full_major", Gc.full_major, 3000);
       ("compact", Gc.compact, 4000);
       ("none", ignore, max_int) |]
  in
  let nworkers = Array.length gcs and nsleepers = 3 in
  let results = Array.init nworkers (fun _ -> ref 0) in
  let finished = ref 0 in
  let workers_done = ref false in
  let verified = ref 0 and wakeups = ref 0 in
  Sched.run (fun () ->
      for s = 0 to nsleepers - 1 do
        Sched.fork (sleeper s ~workers_done ~verified ~wakeups)
      done;
      Array.iteri
        (fun w (_, gc, gc_every) ->
          Sched.fork (fun () ->
              worker w ~iters ~gc ~gc_every ~verified ~result:results.(w) ();
              incr finished;
              if !finished = nworkers then workers_done := true))
        gcs);
  Array.iteri
    (fun w r ->
      let e = expected_sum w ~iters in
      if !r <> e then
        Tcommon.fail "worker %d (%s): final slots sum to %d, expected %d" w
          (let n, _, _ = gcs.(w) in n) !r e)
    results;
  if !wakeups < 1 then Tcommon.fail "sleepers were never resumed while workers ran";
  Gc.full_major ();
  let st = Gc.quick_stat () in
  Tcommon.result
    ([ ("workers", Tcommon.i nworkers);
       ("sleepers", Tcommon.i nsleepers);
       ("verified", Tcommon.i !verified);
       ("wakeups", Tcommon.i !wakeups);
       ("minor_collections", Tcommon.i st.Gc.minor_collections);
       ("major_collections", Tcommon.i st.Gc.major_collections);
       ("compactions", Tcommon.i st.Gc.compactions) ]
    @ Tcommon.sched_counters ())
