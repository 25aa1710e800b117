(* denied_code: OCPREEMPT_DENY keeps preemption out of a module.

   Run with OCPREEMPT_DENY=+Denied_work. Three fibers alternate a ~20 ms loop in
   Denied_work (polls and allocations, [Denied_work.in_denied] set around it) with
   allowed work (checked kernels). The scheduler's on_yield hook fails the program if
   a yield arrives while [in_denied] is set, i.e. if the shim preempted denied code.
   Allowed work is long enough that preemptions do happen (the runner checks
   preemptions >= 1 and skip_denied >= 1). Results of both kinds of work are compared
   with the main fiber's. *)

let () =
  Tcommon.main "denied_code" @@ fun () ->
  let scale = Tcommon.scale () in
  let denied_iters = 6_000_000 in
  let kpoll = Kernels.std_poll in
  let seeds = Kernels.seeds in
  let rpoll = Kernels.references kpoll seeds in
  let denied_ref = Array.map (fun s -> Denied_work.long_loop s denied_iters) seeds in
  let nfibers = 3 and rounds = 10 * scale in
  let violations = ref 0 and denied_calls = ref 0 in
  let on_yield ~fiber ~nth:_ =
    if !Denied_work.in_denied then begin
      incr violations;
      Tcommon.fail "fiber %d yielded inside Denied_work (OCPREEMPT_DENY not honoured)" fiber
    end;
    Sched.Continue
  in
  Sched.run ~on_yield (fun () ->
      for f = 0 to nfibers - 1 do
        Sched.fork (fun () ->
            for r = 0 to rounds - 1 do
              let j = (f + r) mod Array.length seeds in
              let v = Denied_work.long_loop seeds.(j) denied_iters in
              if v <> denied_ref.(j) then
                Tcommon.fail "Denied_work.long_loop %d = %d, main fiber computed %d"
                  seeds.(j) v denied_ref.(j);
              incr denied_calls;
              for a = 0 to 5 do
                Kernels.checked kpoll seeds rpoll ((j + a) mod Array.length seeds)
              done
            done)
      done);
  if !denied_calls <> nfibers * rounds then
    Tcommon.fail "%d of %d denied calls ran" !denied_calls (nfibers * rounds);
  Tcommon.result
    ([ ("denied_calls", Tcommon.i !denied_calls); ("violations", Tcommon.i !violations) ]
    @ Tcommon.sched_counters ())
