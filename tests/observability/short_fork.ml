(* short_fork: a program whose fibers all end before the shim's monitor first reads their
   logs, and which forks a child that runs fibers of its own, for the chrome trace test
   (observability_test.sh case chrome_trace_short_fork): each process's file must name
   every track it has (a thread_name per tid with slices) and hold only its own records.
   With the argument [nofork] it does not fork (the parent's file alone). *)

let total = ref 0

(* A few fibers, each yielding twice: a handful of switches, well under a millisecond. *)
let some_fibers who =
  Obs_sched.run_fibers
    (List.init 4 (fun j () ->
         let i = j + 1 in
         total := !total + i; Obs_sched.yield (); total := !total + i; Obs_sched.yield ()));
  Printf.printf "short_fork: %s done %d\n%!" who !total

let () =
  some_fibers "parent";
  if Array.length Sys.argv < 2 || Sys.argv.(1) <> "nofork" then
    match Unix.fork () with
    | 0 -> some_fibers "child"; exit 0
    | pid -> ignore (Unix.waitpid [] pid)
