(* hashtbl_hash: a fiber preempted inside a Hashtbl.Make table's own hash function.

   The hash of key "b" is slow once (~300 ms of user code). Fiber A does
   [H.replace t "b" 1]: Hashtbl computes the bucket mask from the current bucket array,
   then calls the hash. Fiber B, forked right after, inserts 200 keys, which resizes the
   table. Preempted inside the hash, A resumes with the old mask and writes "b" into a
   bucket of the new array that is not its bucket: [mem "b"] is then false and
   [find "b"] raises Not_found. The on_yield hook also fails on any yield inside the
   hash. Every key is checked afterwards, and both fibers hog outside the table for
   ~200 ms, where preemptions must still land. *)

let in_hash = ref false
let slow_once = ref true

module H = Hashtbl.Make (struct
  type t = string
  let equal = String.equal
  let hash s =
    if s = "b" && !slow_once then begin
      slow_once := false;
      ignore (Busy.for_seconds ~flag:in_hash (0.3 *. float_of_int (Tcommon.scale ())));
      Tcommon.fake_yield ()
    end;
    Hashtbl.hash s
end)

let () =
  Tcommon.main "hashtbl_hash" @@ fun () ->
  let t = H.create 8 in
  let nkeys = 200 and outside = ref 0 in
  Sched.run ~on_yield:(Busy.refuse_inside [ ("Hashtbl.Make's hash", in_hash) ]) (fun () ->
      Sched.fork (fun () ->
          H.replace t "b" 1;
          outside := !outside + Busy.for_seconds 0.1);
      Sched.fork (fun () ->
          for i = 1 to nkeys do
            H.replace t (Printf.sprintf "k%d" i) i
          done;
          outside := !outside + Busy.for_seconds 0.1));
  if not (H.mem t "b") then Tcommon.fail "mem \"b\" = false after replace: corrupted table";
  (match H.find t "b" with
   | 1 -> ()
   | v -> Tcommon.fail "find \"b\" = %d, want 1" v
   | exception Not_found -> Tcommon.fail "find \"b\" raised Not_found: corrupted table");
  for i = 1 to nkeys do
    match H.find_opt t (Printf.sprintf "k%d" i) with
    | Some v when v = i -> ()
    | _ -> Tcommon.fail "key k%d lost or wrong" i
  done;
  if H.length t <> nkeys + 1 then Tcommon.fail "length %d, want %d" (H.length t) (nkeys + 1);
  Tcommon.result
    ([ ("length", Tcommon.i (H.length t)); ("outside_chunks", Tcommon.i !outside) ]
    @ Tcommon.sched_counters ())
