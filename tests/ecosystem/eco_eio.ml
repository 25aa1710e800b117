(* eco_eio: Eio 1.5 (eio_posix) under preemption. Cases:
   fair         a hog and a ticker (Eio.Fiber.yield) in Fiber.both: turns_during_hog, worst_gap_ms
   first        Fiber.first (hog for 3 s) (ticker 5 turns): the ticker must win and the
                preempted hog be cancelled at its preemption (Eio.Fiber.yield raises
                Cancelled there): winner=2, hog_cancelled=1, well before 3 s
   switch_fail  a hog forked in a switch that a sibling fails with Exit after 5 turns:
                Switch.run raises Exit, the hog never finishes
   sync         Eio.Mutex around a read-modify-write that spins (preempted inside the
                critical section), and Eio.Stream between a producer and two consumers:
                exact counter and sum
   sync_nolock  the same counter without the mutex: lost updates prove that preemptions
                land inside the critical section (reports lost, no self-check)
   domains      hog (1.2 s) + ticker in each of two domains of the domain manager
   race         [rounds] rounds of Fiber.first and Fiber.any between computing fibers and
                of Time.with_timeout (30 s) around a computation: each result must be
                one of the racers' exact values, no Cancelled may escape (preempted in
                the Stdlib or glue code Eio's cancellation calls, the winner used to
                raise Cancelled Not_first out of the program): rounds, timeouts=0
   protect_finally  [finally_rounds] switches: a fiber computing inside Fun.protect whose
                ~finally does some work, a sibling failing the switch with Exit: Switch.run
                must raise Exit every round (a yield inside ~finally of the cancelled
                fiber raised Cancelled, Fun made it Finally_raised, and Switch.run raised
                Multiple exceptions out of the program): exits
   both_exit    the pattern of Eio's bench/bench_condition.ml: a publisher updates a
                counter and broadcasts a condition; two consumers loop on Fiber.both
                (await the condition) (raise Exit once the counter reaches its target),
                caught outside the loop. Each fiber Fiber.both forks starts with only
                Stdlib's Fun.protect frame on its stack; a preemption there, once the
                sibling's Exit has cancelled the switch, used to let Cancelled Exit
                escape the fiber (Fatal error: exception Cancelled: Stdlib.Exit):
                rounds (half of them with the consumers in other domains), exits *)

open Eco_common

let hog_and_ticker seconds =
  let p = new_pair () in
  Eio.Fiber.both (ticker_fiber p ~yield:Eio.Fiber.yield) (hog_fiber p seconds);
  p

let fair () =
  Eio_posix.run @@ fun _ -> result (pair_result (hog_and_ticker 0.6)) (* FIBER-EIO-MAIN *)

let first () =
  Eio_posix.run @@ fun _ ->
  let t0 = now () and ended = ref 0 in
  let winner =
    Eio.Fiber.first
      (fun () -> watched_hog ended 3.0; 1)
      (fun () -> for _ = 1 to 5 do Eio.Fiber.yield () done; 2)
  in
  result [ ("winner", i winner); ("hog_cancelled", i (if !ended = 2 then 1 else 0));
           ("elapsed_ms", ms (now () -. t0)) ]

let switch_fail () =
  Eio_posix.run @@ fun _ ->
  let t0 = now () and ended = ref 0 in
  let outcome =
    try
      Eio.Switch.run (fun sw ->
          Eio.Fiber.fork ~sw (fun () -> watched_hog ended 3.0);
          Eio.Fiber.fork ~sw (fun () ->
              for _ = 1 to 5 do Eio.Fiber.yield () done;
              Eio.Switch.fail sw Exit));
      0
    with Exit -> 1
  in
  result [ ("failed_with_exit", i outcome); ("hog_cancelled", i (if !ended = 2 then 1 else 0));
           ("elapsed_ms", ms (now () -. t0)) ]

let fibers = 4
let increments = 40

let counter ~locked =
  let m = Eio.Mutex.create () and c = ref 0 in
  let bump () = let v = !c in spin 500.; c := v + 1 in
  Eio.Switch.run (fun sw ->
      for _ = 1 to fibers do
        Eio.Fiber.fork ~sw (fun () ->
            for _ = 1 to increments do
              if locked then Eio.Mutex.use_rw ~protect:false m bump else bump ()
            done)
      done);
  !c

let items = 3000

let stream_sum () =
  let s = Eio.Stream.create 8 and total = ref 0 and count = ref 0 in
  Eio.Switch.run (fun sw ->
      Eio.Fiber.fork ~sw (fun () ->
          for k = 1 to items do spin 20.; Eio.Stream.add s k done;
          Eio.Stream.add s 0; Eio.Stream.add s 0);
      for _ = 1 to 2 do
        Eio.Fiber.fork ~sw (fun () ->
            let rec loop () =
              match Eio.Stream.take s with
              | 0 -> ()
              | k -> spin 20.; total := !total + k; incr count; loop ()
            in
            loop ())
      done);
  (!count, !total)

let sync () =
  Eio_posix.run @@ fun _ ->
  let c = counter ~locked:true in
  report_sync ~counter:c ~expected:(fibers * increments) ~items (stream_sum ())

let sync_nolock () =
  Eio_posix.run @@ fun _ ->
  let c = counter ~locked:false in
  result [ ("counter", i c); ("lost", i (fibers * increments - c)) ]

let domains () =
  Eio_posix.run @@ fun env ->
  let dm = Eio.Stdenv.domain_mgr env in
  let in_domain () = Eio.Domain_manager.run dm (fun () -> hog_and_ticker 1.2) in
  let a, b = Eio.Fiber.pair in_domain in_domain in
  result (pair_result ~suffix:"_d1" a @ pair_result ~suffix:"_d2" b)

let rounds = 600
let size = 200_000

let race () =
  Eio_posix.run @@ fun env ->
  let clock = Eio.Stdenv.clock env in
  let expect what v candidates =
    if not (List.mem v candidates) then fail "%s: result %d is no racer's value" what v
  in
  let timeouts = ref 0 in
  for r = 1 to rounds do
    let a = size + r and b = size + (2 * r) in
    expect "Fiber.first" (Eio.Fiber.first (fun () -> work a) (fun () -> work b))
      [ work a; work b ];
    expect "Fiber.any"
      (Eio.Fiber.any [ (fun () -> work a); (fun () -> work b); (fun () -> work size) ])
      [ work a; work b; work size ];
    match Eio.Time.with_timeout clock 30.0 (fun () -> Ok (work a)) with
    | Ok v -> expect "with_timeout" v [ work a ]
    | Error `Timeout -> incr timeouts
  done;
  result [ ("rounds", i rounds); ("timeouts", i !timeouts) ]

let finally_rounds = 40

let protect_finally () =
  Eio_posix.run @@ fun _ ->
  let log = Buffer.create 64 in
  let cleanup () = Buffer.clear log; for k = 1 to 20_000 do Buffer.add_string log (i k) done in
  let exits = ref 0 in
  for _ = 1 to finally_rounds do
    match
      Eio.Switch.run (fun sw ->
          Eio.Fiber.fork ~sw (fun () -> Fun.protect ~finally:cleanup (fun () -> ignore (work (10 * size))));
          Eio.Fiber.fork ~sw (fun () -> Eio.Fiber.yield (); Eio.Switch.fail sw Exit))
    with
    | () -> fail "Switch.run returned: the sibling's Exit was lost"
    | exception Exit -> incr exits
  done;
  result [ ("exits", i !exits) ]

let iterations = 10
let target = 100_000

(* As the bench: [iterations] rounds with the consumers in the main domain, then as many
   with each consumer in a domain of the domain manager (there they wake at every
   broadcast, so fibers start all the time). *)
let both_exit () =
  Eio_posix.run @@ fun env ->
  let dm = Eio.Stdenv.domain_mgr env in
  let exits = Atomic.make 0 in
  let round ~in_domain =
    let cond = Eio.Condition.create () and v = Atomic.make 0 and finished = Atomic.make 0 in
    let consumer () =
      try
        while true do
          Eio.Fiber.both
            (fun () -> Eio.Condition.await_no_mutex cond)
            (fun () -> if Atomic.get v = target then raise Exit)
        done
      with Exit -> Atomic.incr finished; Atomic.incr exits
    in
    let consumer () = if in_domain then Eio.Domain_manager.run dm consumer else consumer () in
    (* Unlike the bench, the publisher keeps broadcasting until both consumers have seen
       the target: a consumer preempted before it waits again would otherwise miss the
       last broadcast (the bench relies on running uninterrupted there). *)
    let publisher () =
      for k = 1 to target do Atomic.set v k; Eio.Condition.broadcast cond done;
      while Atomic.get finished < 2 do Eio.Condition.broadcast cond; Eio.Fiber.yield () done
    in
    Eio.Fiber.all [ consumer; consumer; publisher ]
  in
  for _ = 1 to iterations do round ~in_domain:false done;
  for _ = 1 to iterations do round ~in_domain:true done;
  let exits = Atomic.get exits in
  if exits <> 4 * iterations then fail "%d consumers saw the target, expected %d" exits (4 * iterations);
  result [ ("rounds", i (2 * iterations)); ("exits", i exits) ]

let () =
  main "eco_eio"
    [ ("fair", fair); ("first", first); ("switch_fail", switch_fail); ("sync", sync);
      ("sync_nolock", sync_nolock); ("domains", domains); ("race", race);
      ("protect_finally", protect_finally); ("both_exit", both_exit) ]
