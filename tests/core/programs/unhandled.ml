(* unhandled: preemption of fibers that have no handler for Sched.Yield.

   Phase 1 runs computations inside fibers whose handlers handle only some other
   effect ([Ask], [Log]): a Deep handler, two nested Deep handlers, and a Shallow
   handler. No handler above them handles Sched.Yield, so a yield performed there
   raises Effect.Unhandled at the preemption point; the shim must detect or absorb
   that (skip_unhandled) and the computation must go on as if nothing happened.
   The main fiber also runs a plain computation (the shim must not preempt it).
   Phase 2 then runs work under Sched, to check that preemption still works after.

   Checked: every kernel result equals the main fiber's, the [Ask]/[Log] effects are
   answered correctly, and no exception (Effect.Unhandled) escapes. *)

type _ Effect.t += Ask : int -> int Effect.t
type _ Effect.t += Log : int -> unit Effect.t

let () =
  Tcommon.main "unhandled" @@ fun () ->
  let scale = Tcommon.scale () in
  let kpoll = Kernels.std_poll in
  let kalloc = Kernels.std_alloc in
  let seeds = Kernels.seeds in
  let rpoll = Kernels.references kpoll seeds and ralloc = Kernels.references kalloc seeds in
  let rounds = 80 * scale in
  let asked = ref 0 and logged = ref 0 in
  (* the computation: kernels, with an [Ask] and a [Log] per round *)
  let compute tag () =
    let acc = ref 0 in
    for r = 0 to rounds - 1 do
      let j = (r + tag) mod Array.length seeds in
      Kernels.checked kpoll seeds rpoll j;
      Kernels.checked kalloc seeds ralloc j;
      let a = Effect.perform (Ask r) in
      if a <> (r * 2) + 1 then Tcommon.fail "Ask %d answered %d" r a;
      acc := !acc + a;
      Effect.perform (Log r)
    done;
    !acc
  in
  let expected = rounds * rounds (* sum of 2r+1 for r < rounds *) in
  let open Effect.Deep in
  let ask_handler : 'a. ('a, 'a) handler =
    { retc = Fun.id;
      exnc = raise;
      effc = (fun (type b) (e : b Effect.t) ->
        match e with
        | Ask r -> Some (fun (k : (b, _) continuation) -> incr asked; continue k ((r * 2) + 1))
        | _ -> None) }
  in
  let log_handler : 'a. ('a, 'a) handler =
    { retc = Fun.id;
      exnc = raise;
      effc = (fun (type b) (e : b Effect.t) ->
        match e with
        | Log _ -> Some (fun (k : (b, _) continuation) -> incr logged; continue k ())
        | _ -> None) }
  in
  let check what v = if v <> expected then Tcommon.fail "%s computed %d, want %d" what v expected in
  (* 1a: one Deep handler for both effects *)
  let both : (int, int) handler =
    { retc = Fun.id;
      exnc = raise;
      effc = (fun (type b) (e : b Effect.t) ->
        match e with
        | Ask r -> Some (fun (k : (b, _) continuation) -> incr asked; continue k ((r * 2) + 1))
        | Log _ -> Some (fun (k : (b, _) continuation) -> incr logged; continue k ())
        | _ -> None) }
  in
  check "deep" (match_with (compute 0) () both);
  (* 1b: nested Deep handlers, neither handles Yield *)
  check "nested" (match_with (fun () -> match_with (compute 1) () log_handler) () ask_handler);
  (* 1c: a Shallow handler, re-installed at each step *)
  let rec shallow_loop : type a. (a, int) Effect.Shallow.continuation -> a -> int =
   fun k v ->
    Effect.Shallow.continue_with k v
      { Effect.Shallow.retc = Fun.id;
        exnc = raise;
        effc = (fun (type b) (e : b Effect.t) ->
          match e with
          | Ask r -> Some (fun (k : (b, _) Effect.Shallow.continuation) -> incr asked; shallow_loop k ((r * 2) + 1))
          | Log _ -> Some (fun (k : (b, _) Effect.Shallow.continuation) -> incr logged; shallow_loop k ())
          | _ -> None) }
  in
  check "shallow" (shallow_loop (Effect.Shallow.fiber (compute 2)) ());
  (* the main fiber: plain computation, same kernels, never preempted *)
  for r = 0 to rounds - 1 do
    Kernels.checked kpoll seeds rpoll (r mod Array.length seeds)
  done;
  if !asked <> 3 * rounds || !logged <> 3 * rounds then
    Tcommon.fail "asked %d logged %d, want %d each" !asked !logged (3 * rounds);
  (* phase 2: under Sched, preemptions must still be delivered *)
  let completed = Array.make 2 0 in
  let prounds = 20 * scale in
  Sched.run (fun () ->
      Kernels.fork_checked_fibers kpoll rpoll ~nfibers:2 ~rounds:prounds completed);
  Kernels.check_completed "phase 2" completed ~rounds:prounds;
  Tcommon.result
    ([ ("unhandled_computations", "3"); ("asked", Tcommon.i !asked) ]
    @ Tcommon.sched_counters ())
