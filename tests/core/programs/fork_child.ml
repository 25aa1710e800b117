(* fork_child: is a forked child still preempted?
   fork() keeps only the calling thread: the shim's monitor thread is gone in the child
   and must be re-created there, and the parent's other threads must be forgotten. The parent first runs a short hog/ticker
   (so the shim is in full swing when it forks), then forks; the child runs a hog beside
   a ticker and reports its worst gap through a pipe, then leaves with Unix._exit (no
   at_exit: only the parent prints the shim's stats). Without the shim, or with a child
   whose request path did not survive the fork, the child's ticker starves (> 500 ms).
   The parent also checks that its own scheduler still sees its preemptions. *)
let hog_ticker seconds =
  let t, chunks = Kernels.hog_beside_ticker ~seconds () in
  if chunks < 1 then Tcommon.fail "hog computed no chunk";
  t

let () =
  Tcommon.main "fork_child" @@ fun () ->
  let scale = Tcommon.scale () in
  let parent = hog_ticker 0.3 in
  let rd, wr = Unix.pipe () in
  match Unix.fork () with
  | 0 ->
    Unix.close rd;
    let child = hog_ticker (1.5 *. float_of_int scale) in
    let line = Printf.sprintf "%.3f %d\n" (child.worst *. 1000.) child.ticks in
    ignore (Unix.write_substring wr line 0 (String.length line));
    Unix._exit 0
  | pid ->
    Unix.close wr;
    let ic = Unix.in_channel_of_descr rd in
    let reply = try input_line ic with End_of_file -> "" in
    let _, status = Unix.waitpid [] pid in
    if status <> Unix.WEXITED 0 then Tcommon.fail "child did not exit cleanly";
    let gap, ticks =
      try Scanf.sscanf reply "%f %d" (fun g t -> (g, t))
      with _ -> Tcommon.fail "no report from the child: %S" reply in
    Tcommon.result
      ([ ("parent_worst_gap_ms", Tcommon.ms parent.worst);
         ("child_worst_gap_ms", Printf.sprintf "%.3f" gap);
         ("child_ticks", Tcommon.i ticks) ]
      @ Tcommon.sched_counters ())
