(* short_fork: a program whose fibers all end before the shim's monitor first reads their
   logs, and which forks a child that runs fibers of its own, for the chrome trace test
   (observability_test.sh case chrome_trace_short_fork): each process's file must name
   every track it has (a thread_name per tid with slices) and hold only its own records.
   With the argument [nofork] it does not fork (the parent's file alone). *)

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

let rec run () = match Queue.take_opt ready with Some f -> f (); run () | None -> ()

let total = ref 0

(* A few fibers, each yielding twice: a handful of switches, well under a millisecond. *)
let some_fibers who =
  for i = 1 to 4 do
    spawn (fun () -> total := !total + i; yield (); total := !total + i; yield ())
  done;
  run ();
  Printf.printf "short_fork: %s done %d\n%!" who !total

let () =
  some_fibers "parent";
  if Array.length Sys.argv < 2 || Sys.argv.(1) <> "nofork" then
    match Unix.fork () with
    | 0 -> some_fibers "child"; exit 0
    | pid -> ignore (Unix.waitpid [] pid)
