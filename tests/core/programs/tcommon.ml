(* Tcommon: the harness shared by the core test programs.

   Conventions (the runner, run_core_test.sh, relies on them):
   - success: exactly one line "RESULT <name> key=value ..." on stdout, exit status 0;
   - failure: a line "FAIL <name>: <what>" on stdout, exit status 1. Any exception
     escaping the program is turned into a FAIL too.
   - size: the first command-line argument, or else $CORE_SCALE, is an integer scale
     factor (default 1) that multiplies the work; stress runs use a larger one. *)

let name = ref "?"

let fail fmt =
  Printf.ksprintf
    (fun msg ->
      Printf.printf "FAIL %s: %s\n%!" !name msg;
      exit 1)
    fmt

let scale () =
  let parse what s =
    match int_of_string_opt (String.trim s) with
    | Some n when n >= 1 -> n
    | _ -> fail "bad scale %S from %s (want an integer >= 1)" s what
  in
  if Array.length Sys.argv > 1 then parse "argv" Sys.argv.(1)
  else
    match Sys.getenv_opt "CORE_SCALE" with
    | Some s when s <> "" -> parse "CORE_SCALE" s
    | _ -> 1

let result (kvs : (string * string) list) =
  Printf.printf "RESULT %s %s\n%!" !name
    (String.concat " " (List.map (fun (k, v) -> k ^ "=" ^ v) kvs))

let i = string_of_int
let ms seconds = Printf.sprintf "%.3f" (seconds *. 1000.)

(* Wall clock. Unix.gettimeofday is [@@noalloc] with an unboxed result in OCaml 5, so a
   loop that only compares [now ()] with a float stays allocation-free. *)
let now () = Unix.gettimeofday ()

(* The scheduler's own counters, for the RESULT line. *)
let sched_counters () =
  [ ("yields_received", i (Sched.yields_received ()));
    ("voluntary", i (Sched.voluntary_yields ()));
    ("preempted", i (Sched.preemptions_seen ()));
    ("fiber_cpu_ms", ms (float_of_int (Sched.fiber_cpu_ns ()) *. 1e-9)) ]

(* Runs the program body; exits 0 if it returns, turns exceptions into FAIL. *)
let main prog (body : unit -> unit) =
  name := prog;
  Printexc.record_backtrace true;
  match body () with
  | () -> exit 0
  | exception e ->
    fail "uncaught exception %s\n%s" (Printexc.to_string e)
      (Printexc.get_backtrace ())

(* --- Tickers: measure how long a fiber waits between two of its turns ------------ *)

type ticker = {
  mutable started : bool;
  mutable last : float;
  mutable worst : float; (* seconds *)
  mutable ticks : int;
}

let new_ticker () = { started = false; last = 0.; worst = 0.; ticks = 0 }

(* A fiber body: records the time at each of its turns and yields voluntarily, until
   [stop ()] is true. The worst gap between two turns is how long other fibers kept the
   CPU: without preemption a hog keeps it for its whole run. The turn that sees [stop ()]
   true records the time once more: a turn may itself be preempted (at one of its
   allocations) after it read the clock, and the stretch that preemption let the hog run
   must count even when no turn follows. *)
let ticker_fiber (t : ticker) (stop : unit -> bool) () =
  let tick () =
    let n = now () in
    if t.started then begin
      let gap = n -. t.last in
      if gap > t.worst then t.worst <- gap
    end;
    t.started <- true;
    t.last <- n;
    t.ticks <- t.ticks + 1
  in
  let rec loop () =
    tick ();
    if stop () then tick ()
    else begin
      Sched.pause ();
      loop ()
    end
  in
  loop ()

(* --- Fake preemption (self-test of the programs, no shim involved) --------------

   With CORE_FAKE_PREEMPT=1, [fake_yield] calls Sched.yield at a few fixed places
   (each Kernels.checked call, and inside Denied_work's loop), the way the shim
   would, absorbing Effect.Unhandled like the shim does. This proves without the
   shim that the programs' detectors bite: e.g. mutex_held and denied_code must FAIL
   under it, discontinue must discontinue. Never set it together with the shim. *)

let fake_preempt =
  match Sys.getenv_opt "CORE_FAKE_PREEMPT" with
  | Some ("1" | "yes" | "true") -> true
  | _ -> false

let fake_yield () =
  if fake_preempt then try Sched.yield () with Effect.Unhandled _ -> ()
