(* self_clock_phases: fibers whose allocation comes and goes (issue 20, adversary F3).

   PHASES_MODE=gcminor (scale seconds): a fiber that calls Gc.minor after each small
     burst, beside a fiber filling a Hashtbl and a ticker. The self-clock's trips reach the hook from inside
     Gc.minor (C), where no preemption lands; the runner bounds the preempted runs' p50. *)

let alloc_burst n =
  let l = List.init n (fun i -> i) in
  if List.fold_left ( + ) 0 l <> n * (n - 1) / 2 then Tcommon.fail "alloc_burst"

let gcminor seconds =
  let t = Tcommon.new_ticker () in
  let t0 = Tcommon.now () and calls = ref 0 and finished = ref false in
  let tbl = Hashtbl.create 16 in
  Sched.run (fun () ->
      Sched.fork (Tcommon.ticker_fiber t (fun () -> !finished));
      Sched.fork (fun () ->
          while Tcommon.now () -. t0 < seconds do
            alloc_burst 10_000;
            Gc.minor ();
            incr calls
          done);
      Sched.fork (fun () ->
          let i = ref 0 in
          while Tcommon.now () -. t0 < seconds do
            Hashtbl.replace tbl (!i land 0xFFFF) (string_of_int !i);
            incr i
          done;
          Hashtbl.iter
            (fun k v -> if int_of_string v land 0xFFFF <> k then Tcommon.fail "tbl") tbl;
          finished := true));
  [ ("gc_calls", Tcommon.i !calls); ("ticks", Tcommon.i t.ticks) ]

let () =
  Tcommon.main "self_clock_phases" @@ fun () ->
  let mode = Option.value (Sys.getenv_opt "PHASES_MODE") ~default:"gcminor" in
  let kvs =
    match mode with
    | "gcminor" -> gcminor (float_of_int (Tcommon.scale ()))
    | m -> Tcommon.fail "unknown mode %s" m
  in
  Tcommon.result (kvs @ Tcommon.sched_counters ())
