(* exec_child: a preempted process replaces itself with an OCaml program (execv), and
   spawns another as a child (fork + exec through Unix.create_process).

   Roles, by first argument:
   - "parent": fibers run checked kernels (preempted); one of them, while the others are
     suspended mid-work, spawns "child" with create_process, waits for it (exit 0
     expected), then execv's the program as "exec'd". Nothing after execv runs in this
     image.
   - "child", "exec'd": a hog beside a ticker under Sched (checked chunks); prints
     "RESULT exec_child role=... worst_gap_ms=..." and exits 0.

   Expected (fault_test.sh exec_child): exit 0; two RESULT lines, role=child and
   role=exec'd, each with preempted >= 1 (the new image's shim preempts: it loaded
   afresh, with a monitor of its own); stats lines from the parent image's child and from
   the exec'd image, none from the image that exec'd (exec runs no atexit handler). *)

let hog_and_ticker role =
  let t, chunks = Kernels.hog_beside_ticker ~seconds:0.6 () in
  Tcommon.result
    ([ ("role", role); ("worst_gap_ms", Tcommon.ms t.worst); ("hog_chunks", Tcommon.i chunks) ]
    @ Tcommon.sched_counters ())

let parent () =
  let k = Kernels.std_poll and seeds = Kernels.seeds in
  let refs = Kernels.references k seeds in
  let completed = Array.make 2 0 in
  Sched.run (fun () ->
      Kernels.fork_checked_fibers k refs ~nfibers:2 ~rounds:1000 completed;
      Sched.fork (fun () ->
          Fault_common.checked_until_preempted k refs ~n:1;
          (* the other fibers are suspended mid-work now, some of them preempted *)
          let pid = Unix.create_process Sys.executable_name
              [| Sys.executable_name; "child" |] Unix.stdin Unix.stdout Unix.stderr in
          (match Unix.waitpid [] pid with
           | _, Unix.WEXITED 0 -> ()
           | _, Unix.WEXITED n -> Tcommon.fail "child exited with %d" n
           | _, (Unix.WSIGNALED n | Unix.WSTOPPED n) -> Tcommon.fail "child killed by signal %d" n);
          Unix.execv Sys.executable_name [| Sys.executable_name; "exec'd" |]));
  Tcommon.fail "parent: the fibers finished before the exec"

let () =
  let role = if Array.length Sys.argv > 1 then Sys.argv.(1) else "parent" in
  Tcommon.main "exec_child" @@ fun () ->
  match role with
  | "parent" -> parent ()
  | "child" | "exec'd" -> hog_and_ticker role
  | r -> Tcommon.fail "unknown role %S" r
