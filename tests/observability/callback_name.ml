(* callback_name: a fiber that spends most of its time inside a C-to-OCaml callback, for
   the per-fiber accounting test (adversary F7): its group must be named after the
   function that started it (FIBER-CB), never after the callback's function (CALLBACK-WORK),
   whose frames lie above the callback's boundary on the fiber's stack. A ticker fiber
   (FIBER-TICKER) runs beside it. *)

open Effect
open Effect.Deep

type _ Effect.t += Yield : unit Effect.t

let yield () = perform Yield

let ready : (unit -> unit) Queue.t = Queue.create ()

let spawn f =
  Queue.push (fun () ->
      match_with f ()
        { retc = (fun () -> ());
          exnc = raise;
          effc = (fun (type a) (e : a Effect.t) ->
            match e with
            | Yield -> Some (fun (k : (a, unit) continuation) ->
                Queue.push (fun () -> continue k ()) ready)
            | _ -> None) }) ready

external run_callback : (unit -> unit) -> unit = "cbn_run_callback"

let finished = ref false
let ticks = ref 0

let in_callback () = (* CALLBACK-WORK *)
  let x = ref 0 in
  for i = 1 to 2_000_000 do x := (!x * 7 + i) land 0xFFFF done;
  ignore (Sys.opaque_identity !x)

let cb_fiber () = (* FIBER-CB *)
  for _ = 1 to 150 do run_callback in_callback; yield () done;
  finished := true

let ticker () = (* FIBER-TICKER *)
  while not !finished do incr ticks; yield () done

let () =
  spawn ticker;
  spawn cb_fiber;
  while not (Queue.is_empty ready) do (Queue.pop ready) () done;
  Printf.printf "fiber_names: done, %d ticks\n" !ticks
