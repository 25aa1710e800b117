(* user_frame: a lost update whose preemption lands in the Stdlib, for the stress report's
   naming of the user's own frame (chaos_test.sh stress_names_user_frame).

   Four fibers on a round-robin scheduler (Sched.yield) restock a shared counter; between
   reading and writing it, [restock] copies a list with List.map, the only code that
   allocates there. A preemption that lands between the read and the write (inside
   List.map: Stdlib, the innermost frame) lets another fiber's update be lost, and the
   program fails its final check (exit 1). The nearest frame of the program's own code is
   then [restock] at the List.map call (marked USER-FRAME below). *)

let stock = ref 0

let restock items =
  let before = !stock in
  let copies = List.map (fun x -> x + 1) items in (* USER-FRAME *)
  stock := before + List.length copies

let () =
  let items = List.init 8 Fun.id and rounds = 300 and fibers = 4 in
  Sched.run (fun () ->
      for _ = 1 to fibers do
        Sched.fork (fun () -> for _ = 1 to rounds do restock items done)
      done);
  let want = fibers * rounds * List.length items in
  if !stock <> want then begin
    Printf.printf "user_frame: BUG: stock %d, want %d (an update was lost)\n" !stock want;
    exit 1
  end;
  print_endline "user_frame: ok"
