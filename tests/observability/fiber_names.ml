(* fiber_names: the fibers of a hand-rolled scheduler (Obs_sched), each started by a known
   function (the lines marked FIBER-...), for the per-fiber accounting test: the stats must
   name each group by that function and its line, count the three workers as one group
   of three, and show the ticker (never preempted) beside the hog. With the argument [swap] the
   ticker is started by [other_ticker] instead: the twin that shows the check bites.
   With [callback]: the ticker beside a fiber that spends most of its time inside a
   C-to-OCaml callback (adversary F7): it must be named after the function that started
   it (FIBER-CB), never after the callback's (CALLBACK-WORK). *)

let finished = ref false
let ticks = ref 0

let ticker () = (* FIBER-TICKER *)
  while not !finished do incr ticks; Obs_sched.yield () done

let other_ticker () = (* FIBER-OTHER-TICKER *)
  while not !finished do incr ticks; Obs_sched.yield () done

let worker n () = (* FIBER-WORKER *)
  let acc = ref 0 in
  for i = 1 to n do
    for k = 1 to 1000 do acc := (!acc + k * i) land 0xFFFF done;
    Obs_sched.yield ()
  done;
  ignore (Sys.opaque_identity !acc)

external run_callback : (unit -> unit) -> unit = "cbn_run_callback"

let in_callback () = (* CALLBACK-WORK *)
  let x = ref 0 in
  for i = 1 to 2_000_000 do x := (!x * 7 + i) land 0xFFFF done;
  ignore (Sys.opaque_identity !x)

let cb_fiber () = (* FIBER-CB *)
  for _ = 1 to 150 do run_callback in_callback; Obs_sched.yield () done;
  finished := true

let hog () = (* FIBER-HOG *)
  let x = ref 0 in
  for i = 1 to 300_000_000 do x := (!x * 7 + i) land 0xFFFF done;
  finished := true;
  ignore (Sys.opaque_identity !x)

let () =
  let mode = if Array.length Sys.argv > 1 then Sys.argv.(1) else "" in
  Obs_sched.run_fibers
    ((if mode = "swap" then other_ticker else ticker)
     :: (if mode = "callback" then [ cb_fiber ] else [ worker 40; worker 40; worker 40; hog ]));
  Printf.printf "fiber_names: done, %d ticks\n" !ticks
