(* fork_exit: children forked from a busy multi-threaded parent leave with [exit 0].

   fork() copies the parent's memory at one instant, whatever the shim's monitor thread
   was doing then: if it was in the middle of a pass over the threads, the child inherits
   "a pass is in flight" with no monitor to finish it, and the shim's exit handshake (at
   [exit], which runs the C atexit handlers) waits for it forever. The parent therefore
   keeps the monitor busy: THREADS idle systhreads (each a registered thread the monitor
   looks at) and a hog fiber under Sched, then forks CHILDREN children one after another.
   Each child runs a little OCaml and calls [exit 0] (not [Unix._exit], which would skip
   the exit path). The parent waits for each child for at most 10 s, kills it if it is
   still there, and counts it as hung.

   Checked: every child exits by itself with status 0 within the bound. *)

let hung_after = 10.0

let wait_child pid =
  let deadline = Unix.gettimeofday () +. hung_after in
  let rec loop () =
    match Unix.waitpid [ Unix.WNOHANG ] pid with
    | 0, _ when Unix.gettimeofday () < deadline -> Unix.sleepf 0.001; loop ()
    | 0, _ ->
      Unix.kill pid Sys.sigkill;
      ignore (Unix.waitpid [] pid);
      `Hung
    | _, Unix.WEXITED 0 -> `Exited
    | _, Unix.WEXITED n -> `Failed (Printf.sprintf "exit status %d" n)
    | _, Unix.WSIGNALED s -> `Failed (Printf.sprintf "killed by signal %d" s)
    | _, Unix.WSTOPPED _ -> loop ()
  in
  loop ()

let () =
  Tcommon.main "fork_exit" @@ fun () ->
  let scale = Tcommon.scale () in
  let threads = 200 and children = 150 * scale in
  let stop = ref false in
  let m = Mutex.create () and c = Condition.create () in
  let idle =
    List.init threads (fun _ ->
        Thread.create
          (fun () ->
            Mutex.lock m;
            while not !stop do Condition.wait c m done;
            Mutex.unlock m)
          ())
  in
  let hung = ref 0 and failed = ref [] and exited = ref 0 in
  let forks_done = ref false in
  Sched.run (fun () ->
      (* a hog beside the forking fiber keeps requests and preemptions going; it yields
         every ~1 ms by itself, so that the program also runs without the shim *)
      Sched.fork (fun () ->
          while not !forks_done do
            ignore (Sys.opaque_identity (Kernels.spin 3 1_000_000));
            Sched.pause ()
          done);
      Sched.fork (fun () ->
          for _ = 1 to children do
            match Unix.fork () with
            | 0 ->
              ignore (Sys.opaque_identity (Kernels.spin 5 100_000));
              exit 0
            | pid ->
              (match wait_child pid with
               | `Exited -> incr exited
               | `Hung -> incr hung
               | `Failed why -> failed := why :: !failed);
              Sched.pause ()
          done;
          forks_done := true));
  Mutex.lock m;
  stop := true;
  Condition.broadcast c;
  Mutex.unlock m;
  List.iter Thread.join idle;
  if !hung > 0 then
    Tcommon.fail "%d of %d children hung in exit (killed after %.0f s each)" !hung children
      hung_after;
  (match !failed with
   | [] -> ()
   | why :: _ -> Tcommon.fail "%d children failed, e.g. %s" (List.length !failed) why);
  Tcommon.result
    ([ ("children", Tcommon.i children); ("exited", Tcommon.i !exited);
       ("threads", Tcommon.i threads) ] @ Tcommon.sched_counters ())
