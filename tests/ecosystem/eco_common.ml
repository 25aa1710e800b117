(* Eco_common: what the ecosystem test programs share.

   Contract of tests/core/run_core_test.sh: success prints one line
   "RESULT <name> key=value ..." and exits 0; a failed self-check prints
   "FAIL <name>: ..." and exits 1. The first argument names the case.

   The work is a hog that never yields (a non-allocating loop: the shim can only preempt
   it at its poll point) and a ticker that yields through the scheduler's own yield and
   records its worst gap between two turns: without preemption the gap is the hog's whole
   run. Every check below compares exact values; time only bounds a gap. *)

let name = ref "?"

let fail fmt =
  Printf.ksprintf (fun msg -> Printf.printf "FAIL %s: %s\n%!" !name msg; exit 1) fmt

let result kvs =
  Printf.printf "RESULT %s %s\n%!" !name
    (String.concat " " (List.map (fun (k, v) -> k ^ "=" ^ v) kvs))

(* A decoy: the program's own toplevel function merely named yield. Auto-detection must
   pick the scheduler's yield all the same, and never call this one. *)
let yield () = fail "Eco_common.yield was called: ocpreempt chose a function merely named yield"

let now () = Unix.gettimeofday ()
let ms seconds = Printf.sprintf "%.3f" (seconds *. 1000.)
let i = string_of_int

(* Runs for [seconds] of wall time without yielding, unless [stop ()]; returns the number
   of rounds. Each round is a fixed computation whose result is checked, so a preemption
   that corrupted a register would be seen. *)
let hog ?(stop = fun () -> false) seconds =
  let t0 = now () in
  let rounds = ref 0 in
  while now () -. t0 < seconds && not (stop ()) do
    let acc = ref 0 in
    for k = 1 to 10_000 do acc := !acc + (k land 7) done;
    if !acc <> 35_000 then fail "hog round computed %d, expected 35000" !acc;
    incr rounds
  done;
  !rounds

(* Runs [hog seconds] and records how it ended in [ended]: 0 still running, 1 finished,
   2 unwound by an exception (the scheduler's cancellation raised at the preemption). *)
let watched_hog ended seconds =
  match hog seconds with
  | _ -> ended := 1
  | exception e -> ended := 2; raise e

(* A fixed computation of [n] steps that neither allocates nor yields; its result is
   known (the race cases check each winner's value against it). *)
let work n =
  let r = ref 0 in
  for k = 1 to n do r := (!r * 31 + k) land 0xFFFFFF done;
  !r

(* Busy work of about [us] microseconds that never yields (used inside critical sections). *)
let spin us =
  let t0 = now () in
  while now () -. t0 < us *. 1e-6 do () done

(* The sync cases' exact results: [counter] increments made under the library's mutex,
   and the [count] items 1..[items] (summing to [total]) that went through its stream or
   queue. Fails unless every one is exact. *)
let report_sync ~counter ~expected ~items (count, total) =
  let sum = items * (items + 1) / 2 in
  if counter <> expected then fail "mutex: counter %d, expected %d" counter expected;
  if count <> items || total <> sum then
    fail "stream: %d items summing to %d, expected %d summing to %d" count total items sum;
  result [ ("counter", i counter); ("items", i count); ("sum", i total) ]

(* A hog and a ticker, to be run as two fibers of the scheduler ([hog_fiber],
   [ticker_fiber]). The ticker yields with the scheduler's [yield] until the hog is done
   and records its worst gap between two turns (how long the hog kept the CPU) and its
   turns taken while the hog was running: without preemption there are none, whatever
   the machine's load, so that count is the robust check; the gap bounds latency. *)
type pair = {
  mutable running : bool;
  mutable finished : bool;
  mutable last : float;
  mutable worst : float;
  mutable ticks : int;
  mutable during : int;
}

let new_pair () =
  { running = false; finished = false; last = 0.; worst = 0.; ticks = 0; during = 0 }

let hog_fiber p seconds () =
  p.running <- true;
  ignore (hog seconds);
  p.running <- false;
  p.finished <- true

let ticker_fiber p ~yield () = (* FIBER-TICKER *)
  p.last <- now ();
  while not p.finished do
    yield ();
    let n = now () in
    if n -. p.last > p.worst then p.worst <- n -. p.last;
    p.last <- n;
    p.ticks <- p.ticks + 1;
    if p.running then p.during <- p.during + 1
  done

let pair_result ?(suffix = "") p =
  [ ("worst_gap_ms" ^ suffix, ms p.worst); ("ticks" ^ suffix, i p.ticks);
    ("turns_during_hog" ^ suffix, i p.during) ]

let main prog cases =
  name := prog;
  Printexc.record_backtrace true;
  let case = if Array.length Sys.argv > 1 then Sys.argv.(1) else "" in
  match List.assoc_opt case cases with
  | None -> fail "unknown case %S (cases: %s)" case (String.concat ", " (List.map fst cases))
  | Some body -> (
      name := prog ^ "_" ^ case;
      match body () with
      | () -> exit 0
      | exception e ->
          fail "uncaught exception %s\n%s" (Printexc.to_string e) (Printexc.get_backtrace ()))
