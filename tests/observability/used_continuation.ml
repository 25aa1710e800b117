(* used_continuation: resuming a continuation twice is legal OCaml: the second resume
   raises Continuation_already_resumed without switching (caml_resume finds no stack),
   which schedulers rely on (Miou's cancellation). With the per-fiber switch log on
   (OCPREEMPT_STATS), the switch trampoline must not read the missing stack
   (observability_test.sh case stats_used_continuation). Prints the number caught. *)

open Effect
open Effect.Deep

type _ Effect.t += Yield : unit Effect.t

let yield () = perform Yield

let caught = ref 0

let () =
  for round = 1 to 1000 do
    let saved : (unit, unit) continuation option ref = ref None in
    match_with (fun () -> yield (); ignore (Sys.opaque_identity round)) ()
      { retc = (fun () -> ());
        exnc = raise;
        effc = (fun (type a) (e : a Effect.t) ->
          match e with
          | Yield -> Some (fun (k : (a, unit) continuation) -> saved := Some k)
          | _ -> None) };
    match !saved with
    | None -> failwith "no continuation"
    | Some k ->
        continue k ();
        (try continue k () with Continuation_already_resumed -> incr caught);
        (try discontinue k Exit with Continuation_already_resumed -> incr caught)
  done;
  Printf.printf "used_continuation: caught %d\n" !caught
