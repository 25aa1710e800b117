(* domain_exit: `exit` called from a second domain while the main domain's fibers are
   being preempted (issue 9 item 8, run with OCAMLRUNPARAM=c=1 in a loop).

   With c=1 the runtime frees its state in caml_shutdown and then calls exit(), whose
   atexit handlers (the shim's report among them) run while the main domain is still
   executing OCaml code: the longer they take, the likelier that domain trips over the
   torn-down runtime. Expected outcome: every run exits 0 after printing its RESULT. *)

let () =
  Tcommon.main "domain_exit" @@ fun () ->
  let k = Kernels.std_alloc and seeds = Kernels.seeds in
  let refs = Kernels.references k seeds in
  let ready = Atomic.make false in
  let _exiter =
    Domain.spawn (fun () ->
        let completed = Array.make 2 0 in
        Sched.run (fun () -> Kernels.fork_checked_fibers k refs ~nfibers:2 ~rounds:8 completed);
        Kernels.check_completed "exiting domain" completed ~rounds:8;
        while not (Atomic.get ready) do Domain.cpu_relax () done;
        Tcommon.result (("exit_from", "domain") :: Tcommon.sched_counters ());
        exit 0)
  in
  (* the main domain computes until the other domain's exit ends the process: mostly
     without allocating, one allocating kernel every [polls_per_alloc] (argument) calls, so
     that its minor collections (stop-the-world sections, where a torn-down runtime
     crashes) come at a moderate rate *)
  let polls_per_alloc = try int_of_string Sys.argv.(1) with _ -> 0 in
  let kp = Kernels.std_poll in
  let prefs = Kernels.references kp seeds in
  Sched.run (fun () ->
      for f = 0 to 2 do
        Sched.fork (fun () ->
            let r = ref f in
            while true do
              let j = !r mod Array.length seeds in
              if polls_per_alloc = 0 || !r mod (polls_per_alloc + 1) = 0 then
                Kernels.checked k seeds refs j
              else Kernels.checked kp seeds prefs j;
              Atomic.set ready true;
              incr r
            done)
      done);
  Tcommon.fail "the main domain's fibers returned"
