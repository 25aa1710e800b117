(* inlined_code: scheduler code inlined into the program's own loop (issue 15).

   Fibers loop over Inl_lock.push (an allocation inside inlined code), Inl_lock.drain
   (List.rev called from inlined code) and Inl_lock.with_lock (the program's [work] called
   from inlined code), with allocating work of their own in between where preemptions
   may land. The scheduler's on_yield hook counts the yields that arrive while each of
   Inl_lock's flags is set (RESULT yields_push, yields_drain, yields_callback); the runner
   checks them per configuration: 0 where the shim must refuse, >= 1 in the twin
   without deny/critical entry (the same sites are preempted: the check bites). Run under
   chaos mode so that the preemption points are the same in every run. *)

let[@inline never] work n =
  let l = ref [] in
  for i = 1 to n do
    l := i :: !l
  done;
  List.length !l

let[@inline never] own_alloc r =
  let a = Array.make 12 r in
  a.(r land 7) + Array.length a

let () =
  Tcommon.main "inlined_code" @@ fun () ->
  let scale = Tcommon.scale () in
  let nfibers = 3 and rounds = 4000 * scale in
  let yields_push = ref 0 and yields_drain = ref 0 and yields_callback = ref 0 in
  let sum = ref 0 in
  let on_yield ~fiber:_ ~nth:_ =
    if !Inl_lock.in_push then incr yields_push;
    if !Inl_lock.in_drain then incr yields_drain;
    if !Inl_lock.in_callback then incr yields_callback;
    Sched.Continue
  in
  Sched.run ~on_yield (fun () ->
      for _ = 1 to nfibers do
        Sched.fork (fun () ->
            for r = 1 to rounds do
              for k = 1 to 4 do
                Inl_lock.push (r + k)
              done;
              sum := !sum + own_alloc r;
              if r land 7 = 0 then sum := !sum + List.length (Inl_lock.drain ());
              sum := !sum + Inl_lock.with_lock work 8
            done)
      done);
  let want = nfibers * rounds * 8 in
  if !sum < want then Tcommon.fail "work lost: sum %d < %d" !sum want;
  Tcommon.result
    ([ ("yields_push", Tcommon.i !yields_push);
       ("yields_drain", Tcommon.i !yields_drain);
       ("yields_callback", Tcommon.i !yields_callback) ]
    @ Tcommon.sched_counters ())
