(* discontinue: a scheduler that discontinues fibers at a preemption.

   The scheduler's policy discontinues each fiber, with exception [Stop id], at its
   3rd yield (more precisely: at the first yield, from the 3rd on, that lands while
   the fiber is inside its protected body, so the exception is never raised inside
   the [finally] handler itself). The fibers never yield voluntarily, so with the shim
   every one of these yields is a preemption, and [Stop] is raised at whatever poll or
   allocation point the fiber was stopped at, inside an inner [try ... with
   Not_found] that must let it through.

   Checked for every fiber: the Fun.protect [finally] ran exactly once; the fiber
   either completed normally with correct kernel results, or caught exactly the
   exception it was discontinued with ([Stop id] with its own id). A preemption that
   breaks the exception-handler chain or unwinds the wrong stack fails these checks
   or crashes.

   Without the shim no fiber yields, so all complete: the program accepts both
   outcomes and reports "discontinued=N completed=M"; the runner requires
   discontinued > 0 with the shim. *)

exception Stop of int

let () =
  Tcommon.main "discontinue" @@ fun () ->
  let scale = Tcommon.scale () in
  (* the scale multiplies the number of fibers: with the shim each fiber only lives
     until its 3rd preemption, so more fibers is what makes a longer run *)
  let nfibers = 6 * scale and rounds = 30 in
  let kpoll = Kernels.std_poll in
  let kalloc = Kernels.std_alloc in
  let kfloat = Kernels.std_float in
  let seeds = Kernels.seeds in
  let rpoll = Kernels.references kpoll seeds
  and ralloc = Kernels.references kalloc seeds
  and rfloat = Kernels.references kfloat seeds in
  (* indexed by scheduler fiber id: 0 is [main], the workers are 1..nfibers *)
  let n = nfibers + 1 in
  let in_body = Array.make n false
  and sent = Array.make n false
  and finally_runs = Array.make n 0
  and completed = Array.make n false
  and caught = Array.make n None in
  let on_yield ~fiber ~nth =
    if fiber >= 1 && nth >= 3 && in_body.(fiber) && not sent.(fiber) then begin
      sent.(fiber) <- true;
      Sched.Discontinue (Stop fiber)
    end
    else Sched.Continue
  in
  let work () =
    for r = 0 to rounds - 1 do
      try
        let j = r mod Array.length seeds in
        Kernels.checked kpoll seeds rpoll j;
        Kernels.checked kalloc seeds ralloc j;
        Kernels.checked kfloat seeds rfloat j;
        if r < 0 then raise Not_found
      with Not_found -> Tcommon.fail "impossible Not_found"
    done
  in
  Sched.run ~on_yield (fun () ->
      for _ = 1 to nfibers do
        Sched.fork (fun () ->
            let id = Sched.self () in
            try
              Fun.protect
                ~finally:(fun () -> finally_runs.(id) <- finally_runs.(id) + 1)
                (fun () ->
                  in_body.(id) <- true;
                  work ();
                  in_body.(id) <- false);
              completed.(id) <- true
            with Stop x -> caught.(id) <- Some x)
      done);
  let discontinued = ref 0 and completed_n = ref 0 in
  for id = 1 to nfibers do
    if finally_runs.(id) <> 1 then
      Tcommon.fail "fiber %d: finally ran %d times (want exactly 1)" id finally_runs.(id);
    match (completed.(id), caught.(id), sent.(id)) with
    | true, None, false -> incr completed_n
    | false, Some x, true when x = id -> incr discontinued
    | false, Some x, true -> Tcommon.fail "fiber %d caught Stop %d, was discontinued with Stop %d" id x id
    | c, x, s ->
      Tcommon.fail "fiber %d: completed=%b caught=%s discontinued=%b" id c
        (match x with None -> "none" | Some x -> "Stop " ^ string_of_int x)
        s
  done;
  Tcommon.result
    ([ ("discontinued", Tcommon.i !discontinued);
       ("completed", Tcommon.i !completed_n);
       ("fibers", Tcommon.i nfibers) ]
    @ Tcommon.sched_counters ())
