(* Tail_sched: a scheduler that reaches Effect.Deep.match_with, and the next fiber, by tail
   calls only, shaped as Picos_mux_fifo: [run_fiber main] tail-calls match_with on the
   caller's stack, fibers are spawned by an effect and started from the handler's closures
   by [next], again by tail calls. Once fibers run, no frame of this unit is left on any
   stack; only the handler's closures (retc, effc) are its code. For fiber_start_tail
   (issue 15: a fiber's starter named by its handler). *)

open Effect.Deep

type _ Effect.t += Yield : unit Effect.t | Spawn : (unit -> unit) -> unit Effect.t

let yield () = Effect.perform Yield
let spawn f = Effect.perform (Spawn f)
let ready : (unit -> unit) Queue.t = Queue.create ()
let yields = ref 0

let rec next () =
  match Queue.take_opt ready with
  | None -> ()
  | Some f -> f ()

and handler =
  { retc = (fun () -> next ());
    exnc = raise;
    effc =
      (fun (type a) (e : a Effect.t) ->
        match e with
        | Yield ->
            Some
              (fun (k : (a, unit) continuation) ->
                incr yields;
                Queue.push (fun () -> continue k ()) ready;
                next ())
        | Spawn f ->
            Some
              (fun (k : (a, unit) continuation) ->
                Queue.push (fun () -> match_with f () handler) ready;
                continue k ())
        | _ -> None) }

let run_fiber main = match_with main () handler
