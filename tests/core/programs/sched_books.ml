(* Sched_books: a scheduler's bookkeeping that calls the Stdlib while its state is
   inconsistent, the way Eio's cancellation folds List.cons over its fibers and Picos
   signals triggers with List.iter.

   transparent_callee runs with OCPREEMPT_DENY=+Sched_books. [in_books] is set and
   cleared inside this unit; in between, only this unit's code, Stdlib__List (List.init,
   List.map, List.rev, List.iter, with callbacks of this unit) and the compiler's glue
   run. A preemption anywhere in there is a yield inside the scheduler: the program's
   on_yield hook fails it. Before the innermost-deny rule judged transparent frames by
   their caller, the Stdlib__List frames were preemptible although called from here. *)

let in_books = ref false

let[@inline never] rebuild n =
  in_books := true;
  let l = List.init n (fun k -> k * 3) in
  let l = List.rev (List.map (fun x -> x + 1) l) in
  let sum = ref 0 in
  List.iter (fun x -> sum := !sum + x) l;
  if Tcommon.fake_preempt then Tcommon.fake_yield ();
  in_books := false;
  !sum
