(* eco_picos: Picos (picos_mux.fifo, picos_std) under preemption. Moonpool's fibers are
   Picos fibers, so this is also what a Moonpool program's yield is. Cases:
   fair         a hog and a ticker (Picos.Fiber.yield) forked in a flock: turns_during_hog,
                worst_gap_ms
   terminate    Flock.terminate after 5 turns while a forked hog (3 s of work) is
                preempted: the hog is cancelled at its preemption, well before 3 s
   sync         Picos_std_sync.Mutex around a read-modify-write that spins (preempted
                inside), and Picos_std_sync.Stream from a producer to a consumer: exact
                counter and sum
   sync_nolock  the counter without the mutex: lost updates (reported, not checked)
   race         [rounds] rounds of Run.first_or_terminate and Run.any between computing
                fibers, and of a flock terminated while a forked computation runs: no
                Terminate may escape (preempted in List.iter while Picos signals a
                computation's triggers, it used to): rounds
   any_all_fifos, any_all_multififos, any_all_run_fiber (the last as Picos' Test_scheduler:
                run_fiber called directly)
                Picos' own test_structured "any and all returns", [rounds] times over,
                on picos_mux.fifo or picos_mux.multififo (one domain: chaos replays):
                Run.all and Run.any over a shuffled list of branches that raise
                Control.Terminate (not an error) or count; a fresh scheduler per list.
                Each spawned branch starts in compiler glue (a partial application of
                Run's wrapper) with no caller frame; a preemption there, once a sibling
                has terminated the bundle, used to let Terminate escape run_fiber:
                lists=[rounds]*18, each count within its bounds *)

open Eco_common
module Flock = Picos_std_structured.Flock
module Mutex = Picos_std_sync.Mutex
module Stream = Picos_std_sync.Stream

let fair () =
  Picos_mux_fifo.run @@ fun () ->
  let p = new_pair () in
  Flock.join_after (fun () ->
      Flock.fork (ticker_fiber p ~yield:Picos.Fiber.yield);
      Flock.fork (hog_fiber p 0.6)); (* FIBER-PICOS-HOG *)
  result (pair_result p)

let terminate () =
  Picos_mux_fifo.run @@ fun () ->
  let t0 = now () and ended = ref 0 in
  Flock.join_after (fun () ->
      Flock.fork (fun () -> watched_hog ended 3.0);
      for _ = 1 to 5 do Picos.Fiber.yield () done;
      Flock.terminate ());
  result [ ("hog_cancelled", i (if !ended = 2 then 1 else 0)); ("elapsed_ms", ms (now () -. t0)) ]

let fibers = 4
let increments = 40

let counter ~locked =
  let m = Mutex.create () and c = ref 0 in
  let bump () = let v = !c in spin 500.; c := v + 1 in
  Flock.join_after (fun () ->
      for _ = 1 to fibers do
        Flock.fork (fun () ->
            for _ = 1 to increments do if locked then Mutex.protect m bump else bump () done)
      done);
  !c

let items = 3000

let stream_sum () =
  let s = Stream.create () in
  let cursor = Stream.tap s in
  let count = ref 0 and total = ref 0 in
  Flock.join_after (fun () ->
      Flock.fork (fun () -> for k = 1 to items do spin 20.; Stream.push s k done; Stream.push s 0);
      Flock.fork (fun () ->
          let rec loop cursor =
            match Stream.read cursor with
            | 0, _ -> ()
            | k, next -> spin 20.; total := !total + k; incr count; loop next
          in
          loop cursor));
  (!count, !total)

let sync () =
  Picos_mux_fifo.run @@ fun () ->
  let c = counter ~locked:true in
  report_sync ~counter:c ~expected:(fibers * increments) ~items (stream_sum ())

let sync_nolock () =
  Picos_mux_fifo.run @@ fun () ->
  let c = counter ~locked:false in
  result [ ("counter", i c); ("lost", i (fibers * increments - c)) ]

module Run = Picos_std_structured.Run

let rounds = 600
let size = 200_000

let race () =
  Picos_mux_fifo.run @@ fun () ->
  let done_rounds = ref 0 in
  for r = 1 to rounds do
    let a = size + r and b = size + (2 * r) in
    Run.first_or_terminate [ (fun () -> ignore (work a)); (fun () -> ignore (work b)) ];
    Run.any [ (fun () -> ignore (work a)); (fun () -> ignore (work b)) ];
    Flock.join_after (fun () ->
        Flock.fork (fun () -> ignore (work (4 * size)));
        ignore (work size);
        Flock.terminate ());
    incr done_rounds
  done;
  result [ ("rounds", i !done_rounds) ]

module Control = Picos_std_structured.Control

(* A fixed shuffle (the test's own is seeded from the clock): runs replay under chaos. *)
let shuffle state list =
  let a = Array.of_list list in
  for k = Array.length a - 1 downto 1 do
    let j = Random.State.int state (k + 1) in
    let t = a.(k) in
    a.(k) <- a.(j);
    a.(j) <- t
  done;
  Array.to_list a

let any_all_rounds = 150

(* [run ~quota main]: one scheduler running [main] to its end *)
let any_all (run : quota:int -> (unit -> unit) -> unit) () =
  let state = Random.State.make [| 15 |] in
  let lists = ref 0 in
  for round = 1 to any_all_rounds do
    [ 0; 1; 2 ]
    |> List.iter @@ fun n_terminates ->
       [ 0; 1; 2 ]
       |> List.iter @@ fun n_incr ->
          [ (Run.all, "all", n_incr, n_incr); (Run.any, "any", Int.min 1 n_incr, n_incr) ]
          |> List.iter @@ fun (run_op, op, min, max) ->
             run ~quota:(1 + (round mod 100)) @@ fun () ->
             let count = Atomic.make 0 in
             let ops =
               List.init n_terminates (fun _ () -> raise Control.Terminate)
               @ List.init n_incr (fun _ () -> Atomic.incr count)
               |> shuffle state
             in
             run_op ops;
             let n = Atomic.get count in
             if n < min || n > max then
               fail "round %d: Run.%s with %d Terminate and %d counting branches counted %d, expected %d..%d"
                 round op n_terminates n_incr n min max;
             incr lists
  done;
  result [ ("lists", i !lists) ]

let fifos ~quota main = Picos_mux_fifo.run ~quota main
let multififos ~quota main = Picos_mux_multififo.run_on ~quota ~n_domains:1 main

(* As Picos' own Test_scheduler: run_fiber called directly, which reaches match_with by
   tail calls, so no frame of Picos is left below the fibers: their starter must be named
   by their handler (before: the caller, this unit, was, and a fiber starting in
   caml_curry4_3 was preempted before wrap_any's try: Terminate escaped). *)
let fifos_run_fiber ~quota main =
  let computation = Picos.Computation.create ~mode:`LIFO () in
  let fiber = Picos.Fiber.create ~forbid:false computation in
  Picos_mux_fifo.run_fiber ~quota fiber (fun _ -> Picos.Computation.capture computation main ());
  Picos.Computation.await computation

let () =
  main "eco_picos"
    [ ("fair", fair); ("terminate", terminate); ("sync", sync); ("sync_nolock", sync_nolock);
      ("race", race); ("any_all_fifos", any_all fifos); ("any_all_multififos", any_all multififos);
      ("any_all_run_fiber", any_all fifos_run_fiber) ]
