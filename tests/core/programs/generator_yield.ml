(* generator_yield: a program whose own toplevel [yield] is not a scheduler's.

   [yield : int -> unit] hands a value from a generator fiber to its consumer (as in OCaml's
   testsuite, effect-syntax/shallow2deep.ml). Its name alone tells ocpreempt nothing about
   its type: called with () at a preemption it would emit a bogus 0, which the consumer
   detects. So without OCPREEMPT_YIELD the shim must not call it (the runner checks the
   program passes and the shim stays silent), and when a user names it anyway the bogus
   value shows (the runner expects this FAIL: the test can fail).

   The generator computes ~10 ms between values, long enough to be preempted at 1 ms. *)

type _ Effect.t += Yield : int -> unit Effect.t

let yield (x : int) = Effect.perform (Yield x)

let count = 30

let stretch () =
  let t0 = Unix.gettimeofday () and acc = ref 0 in
  while Unix.gettimeofday () -. t0 < 0.01 do
    for k = 1 to 1000 do acc := !acc + (k land 3) done
  done;
  !acc

let fail fmt =
  Printf.ksprintf (fun m -> Printf.printf "FAIL generator_yield: %s\n%!" m; exit 1) fmt

let () =
  let received = ref [] in
  let generate () =
    for k = 1 to count do
      ignore (Sys.opaque_identity (stretch ()));
      yield k
    done
  in
  Effect.Deep.match_with generate ()
    { retc = (fun () -> ());
      exnc = raise;
      effc = (fun (type a) (e : a Effect.t) ->
        match e with
        | Yield x -> Some (fun (k : (a, unit) Effect.Deep.continuation) ->
            received := x :: !received;
            Effect.Deep.continue k ())
        | _ -> None) };
  let got = List.rev !received in
  if got <> List.init count (fun k -> k + 1) then
    fail "consumer received %d values [%s], expected 1..%d" (List.length got)
      (String.concat ";" (List.map string_of_int got)) count;
  Printf.printf "RESULT generator_yield values=%d\n%!" (List.length got)
