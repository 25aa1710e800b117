(* switch_often: a fiber that yields within its quantum is never preempted.

   Two "switcher" fibers each spin for about CHUNK_NS nanoseconds of CPU time (environment
   variable, default 25000: a quarter of the 100 us quantum the test runs at), then yield
   voluntarily, over and over, alternating: A B A B... For the first half of the run they
   are alone (with 300 ns chunks at a 1 ms quantum: thousands of switches per quantum);
   then a "hog" fiber joins them that spins without ever yielding.
   The scheduler hook tells voluntary yields from preemptions (a fiber marks itself before
   it yields), per fiber.

   Checked, with the clock the shim's quantum is measured in (the thread's CPU time, read
   at the start of each chunk and when the scheduler receives a preemption): no switcher is
   preempted before its chunk has used the quantum (OCPREEMPT_QUANTUM). With a sampler
   that cannot see switches between two looks, a switcher seen at two looks with the same
   stack looks as if it ran the whole time (two fibers alternating every 25 us are both
   "the same fiber" to a 50 us sampler), and is preempted a few microseconds into a
   chunk, at a point where it never yields. A chunk that really ran a whole quantum
   (on a loaded machine the same iterations occasionally take 5x their usual CPU time) may
   be preempted: those are counted as overruns, not failures. And the hog is preempted:
   the shim was active and watching, so the test cannot pass by doing nothing. *)

external thread_cpu_ns : unit -> (int[@untagged])
  = "core_thread_cpu_ns_byte" "core_thread_cpu_ns" [@@noalloc]

(* OCPREEMPT_QUANTUM in ns ("100us", "1ms", ...); the shim's default is 10ms. *)
let quantum_ns () =
  let s = Option.value (Sys.getenv_opt "OCPREEMPT_QUANTUM") ~default:"" in
  let digits = ref 0 in
  while !digits < String.length s && s.[!digits] >= '0' && s.[!digits] <= '9' do incr digits done;
  let n = int_of_string_opt (String.sub s 0 !digits) in
  match n, String.sub s !digits (String.length s - !digits) with
  | Some n, "ns" -> n | Some n, "us" -> n * 1000 | Some n, "ms" -> n * 1_000_000
  | Some n, "s" -> n * 1_000_000_000
  | _ -> 10_000_000

let spin_chunk iters = ignore (Sys.opaque_identity (Kernels.spin 7 iters))

(* Iterations of Kernels.spin per CPU nanosecond, measured over >= 50 ms of CPU. *)
let calibrate () =
  let t0 = Sys.time () and n = ref 0 in
  while Sys.time () -. t0 < 0.05 do
    spin_chunk 10_000;
    n := !n + 10_000
  done;
  float_of_int !n /. ((Sys.time () -. t0) *. 1e9)

let () =
  Tcommon.main "switch_often" @@ fun () ->
  let scale = Tcommon.scale () in
  let chunk_ns =
    match Sys.getenv_opt "CHUNK_NS" with
    | Some s -> (match int_of_string_opt s with Some n when n > 0 -> n | _ -> 25_000)
    | None -> 25_000
  in
  let per_ns = calibrate () in
  let chunk_iters = max 1 (int_of_float (per_ns *. float_of_int chunk_ns)) in
  let switchers = 2 in
  let hog = switchers + 1 in   (* fiber ids: 0 main, 1..2 switchers, 3 hog *)
  let duration = 1.0 *. float_of_int scale in
  let quantum = quantum_ns () in
  let pausing = Array.make (hog + 1) false in
  let preempted = Array.make (hog + 1) 0 and voluntary = Array.make (hog + 1) 0 in
  let chunk_start = Array.make (hog + 1) 0 and unchecked = Array.make (hog + 1) false in
  let early = ref 0 and overruns = ref 0 and shortest = ref max_int in
  (* The CPU read at a chunk's start comes a system call after the resume that began the
     run, so the shim's run may exceed ours by that much. *)
  let slack = 5_000 in
  let on_yield ~fiber ~nth:_ =
    if pausing.(fiber) then begin
      pausing.(fiber) <- false;
      voluntary.(fiber) <- voluntary.(fiber) + 1
    end else begin
      preempted.(fiber) <- preempted.(fiber) + 1;
      if fiber < hog && unchecked.(fiber) then incr overruns
      else if fiber < hog then begin
        (* The run began at the chunk's start (a resume). After a preemption the rest of
           the chunk is not checked: its run begins at a resume we cannot time. *)
        let ran = thread_cpu_ns () - chunk_start.(fiber) in
        if ran < !shortest then shortest := ran;
        unchecked.(fiber) <- true;
        if ran >= quantum - slack then incr overruns else incr early
      end
    end;
    Sched.Continue
  in
  let start = Tcommon.now () in
  let deadline = start +. duration and hog_from = start +. (duration /. 2.) in
  let hog_started = ref false in
  let hog_fiber () =
    while Tcommon.now () < deadline do
      spin_chunk 1000
    done
  in
  Sched.run ~on_yield (fun () ->
      for _ = 1 to switchers do
        Sched.fork (fun () ->
            let me = Sched.self () in
            while Tcommon.now () < deadline do
              if (not !hog_started) && Tcommon.now () >= hog_from then begin
                hog_started := true;
                Sched.fork hog_fiber
              end;
              unchecked.(me) <- false;
              chunk_start.(me) <- thread_cpu_ns ();
              spin_chunk chunk_iters;
              pausing.(me) <- true;
              Sched.pause ()
            done)
      done);
  let switches = ref 0 in
  for f = 1 to switchers do switches := !switches + voluntary.(f) done;
  if !early > 0 then
    Tcommon.fail "switchers yielding every %d ns of CPU were preempted %d times before \
                  their run reached the %d ns quantum (shortest run %d ns; %d voluntary \
                  yields)" chunk_ns !early quantum !shortest !switches;
  Tcommon.result
    [ ("chunk_ns", Tcommon.i chunk_ns); ("chunk_iters", Tcommon.i chunk_iters);
      ("switches", Tcommon.i !switches); ("switcher_preempted_early", Tcommon.i !early);
      ("switcher_overruns", Tcommon.i !overruns);
      ("hog_preempted", Tcommon.i preempted.(hog)) ]
