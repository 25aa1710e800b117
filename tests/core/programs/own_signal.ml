(* own_signal: the program's own SIGURG handler keeps working under the shim.

   SIGURG was the request signal of the retired signal mode, and is the one Go uses
   for preemption: the shim must neither swallow it nor send it. The program
   installs its own SIGURG handler with Sys.set_signal (it counts calls), then a
   signaller fiber sends SIGURG to the process N times (N = 100 x scale) while compute
   fibers run checked kernels. After each Unix.kill the signaller spins (at a poll
   point, where OCaml runs signal handlers) until the handler has run, so signals
   never coalesce and the count is exact.

   Checked: the handler ran exactly once per signal — never lost (the shim swallowed
   or blocked the program's signal: "not delivered after 5 s"), never extra (the
   shim's own SIGURGs leaked into the program's handler) — both after each signal and
   at the end after a pause for late deliveries; and kernel results are correct. *)

(* The signal: SIGURG, or the one OWN_SIGNAL names (URG or INT; the fault tests use INT,
   the signal of Ctrl-C). *)
let own_signal () =
  match Sys.getenv_opt "OWN_SIGNAL" with
  | None | Some "URG" -> Sys.sigurg
  | Some "INT" -> Sys.sigint
  | Some s -> Tcommon.fail "OWN_SIGNAL=%s: want URG or INT" s

let () =
  Tcommon.main "own_signal" @@ fun () ->
  let scale = Tcommon.scale () in
  let n = 100 * scale in
  let count = Atomic.make 0 in
  let signal = own_signal () in
  Sys.set_signal signal (Sys.Signal_handle (fun _ -> Atomic.incr count));
  let kpoll = Kernels.std_poll in
  let kalloc = Kernels.std_alloc in
  let seeds = Kernels.seeds in
  let rpoll = Kernels.references kpoll seeds and ralloc = Kernels.references kalloc seeds in
  let pid = Unix.getpid () in
  let sent = ref 0 and signaller_done = ref false and rounds = ref 0 in
  Sched.run (fun () ->
      Sched.fork (fun () ->
          for i = 1 to n do
            Unix.kill pid signal;
            sent := i;
            let deadline = Unix.gettimeofday () +. 5.0 in
            while Atomic.get count < i do
              if Unix.gettimeofday () > deadline then
                Tcommon.fail "signal %d not delivered to the program's handler after 5 s \
                              (handler count %d)" i (Atomic.get count)
            done;
            if Atomic.get count > i then
              Tcommon.fail "handler ran %d times after %d signals (extra SIGURG)"
                (Atomic.get count) i;
            Sched.pause ()
          done;
          signaller_done := true);
      for f = 0 to 2 do
        Sched.fork (fun () ->
            let r = ref f in
            while not !signaller_done do
              let j = !r mod Array.length seeds in
              Kernels.checked kpoll seeds rpoll j;
              Kernels.checked kalloc seeds ralloc j;
              incr r;
              incr rounds;
              Sched.pause ()
            done)
      done);
  (* late or extra deliveries *)
  Unix.sleepf 0.1;
  for j = 0 to 3 do Kernels.checked kpoll seeds rpoll j done;
  let c = Atomic.get count in
  if c <> n then Tcommon.fail "handler ran %d times for %d signals" c n;
  Tcommon.result
    ([ ("signals", Tcommon.i !sent); ("handled", Tcommon.i c); ("compute_rounds", Tcommon.i !rounds) ]
    @ Tcommon.sched_counters ())
