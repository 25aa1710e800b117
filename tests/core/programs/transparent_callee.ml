(* transparent_callee: Stdlib code takes the deny verdict of the code that called it.

   Run with OCPREEMPT_DENY=+Sched_books. Three fibers alternate two kinds of rounds that
   run the same Stdlib__List functions:
   - Sched_books.rebuild, a denied unit's bookkeeping: a yield while its flag is set
     fails the program (the shim preempted Stdlib code called by denied code);
   - the same List.init/List.rev called from this (allowed) unit, with [in_user_list]
     set around the calls only: yields that arrive while it is set were preemptions in
     Stdlib code called by user code, which must still happen (user_list_preempted,
     checked >= 1 by the runner).
   Every round's result is checked against the main fiber's. *)

let in_user_list = ref false

let[@inline never] user_list n =
  in_user_list := true;
  let l = List.rev (List.init n Fun.id) in
  in_user_list := false;
  List.length l + List.hd l

let () =
  Tcommon.main "transparent_callee" @@ fun () ->
  let scale = Tcommon.scale () in
  let n = 200_000 in
  let books_ref = Sched_books.rebuild n and user_ref = user_list n in
  let nfibers = 3 and rounds = 20 * scale in
  let user_preempted = ref 0 and books_calls = ref 0 in
  let on_yield ~fiber ~nth:_ =
    if !Sched_books.in_books then
      Tcommon.fail "fiber %d yielded inside Sched_books (Stdlib code it called)" fiber;
    if !in_user_list then incr user_preempted;
    Sched.Continue
  in
  Sched.run ~on_yield (fun () ->
      for f = 0 to nfibers - 1 do
        Sched.fork (fun () ->
            for r = 0 to rounds - 1 do
              let v = Sched_books.rebuild n in
              if v <> books_ref then
                Tcommon.fail "fiber %d round %d: rebuild = %d, expected %d" f r v books_ref;
              incr books_calls;
              let u = user_list n in
              if u <> user_ref then
                Tcommon.fail "fiber %d round %d: user_list = %d, expected %d" f r u user_ref
            done)
      done);
  if !books_calls <> nfibers * rounds then
    Tcommon.fail "%d of %d rebuilds ran" !books_calls (nfibers * rounds);
  Tcommon.result
    ([ ("books_calls", Tcommon.i !books_calls);
       ("user_list_preempted", Tcommon.i !user_preempted) ]
    @ Tcommon.sched_counters ())
