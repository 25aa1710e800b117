(* Obs_sched: the round-robin scheduler of the observability test programs (hog_sites,
   c_stall, fiber_names, short_fork), run with OCPREEMPT_YIELD=Obs_sched.yield. Each fiber
   runs under its own Effect.Deep handler, whose Yield case queues the continuation and
   returns, so the loop stays on the caller's stack. One queue per run_fibers call: two
   domains may each run one. The fibers' own functions stay in each program's unit, where
   the per-fiber names and the hog sites the tests look for are. *)

open Effect
open Effect.Deep

type _ Effect.t += Yield : unit Effect.t

let yield () = perform Yield

let run_fibers (fibers : (unit -> unit) list) =
  let ready : (unit -> unit) Queue.t = Queue.create () in
  let spawn f =
    Queue.push (fun () ->
        match_with f ()
          { retc = (fun () -> ());
            exnc = raise;
            effc = (fun (type a) (e : a Effect.t) ->
              match e with
              | Yield -> Some (fun (k : (a, unit) continuation) ->
                  Queue.push (fun () -> continue k ()) ready)
              | _ -> None) }) ready in
  List.iter spawn fibers;
  while not (Queue.is_empty ready) do (Queue.pop ready) () done
