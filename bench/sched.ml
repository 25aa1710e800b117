(* A minimal round-robin fiber scheduler, as a program would write it: one effect, a
   queue of runnable thunks, and a loop on the main fiber. [Sched.yield] is the function
   ocpreempt is told to call (OCPREEMPT_YIELD=Sched.yield). *)
open Effect
open Effect.Deep

type _ Effect.t += Yield : unit Effect.t

let yield () = perform Yield

(* One queue per domain, so that several domains can each run a scheduler. *)
let queue_key : (unit -> unit) Queue.t Domain.DLS.key = Domain.DLS.new_key Queue.create
let run_queue () = Domain.DLS.get queue_key

let handler =
  { retc = (fun () -> ());
    exnc = raise;
    effc = (fun (type a) (e : a Effect.t) ->
      match e with
      | Yield -> Some (fun (k : (a, unit) continuation) ->
          Queue.push (fun () -> continue k ()) (run_queue ()))
      | _ -> None) }

let spawn f = Queue.push (fun () -> match_with f () handler) (run_queue ())

(* Number of runnable fibers besides the one running now. *)
let runnable () = Queue.length (run_queue ())

let rec run () =
  match Queue.take_opt (run_queue ()) with
  | Some f -> f (); run ()
  | None -> ()
