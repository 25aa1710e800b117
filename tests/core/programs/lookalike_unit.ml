(* lookalike_unit: a hog in the program's own module Miou_fair, beside a ticker, with the
   default deny list (which has Miou). When deny entries were string prefixes every request
   there was refused (skipped: denied) and the ticker starved as without the shim; the
   runner wants the ticker's worst gap < 250 ms at 10 ms, preemptions and no skip_denied. *)

let () =
  Tcommon.main "lookalike_unit" @@ fun () ->
  let seconds = 1.0 *. float_of_int (Tcommon.scale ()) in
  let t = Tcommon.new_ticker () in
  let hog_done = ref false and chunks = ref 0 in
  Sched.run (fun () ->
      Sched.fork (Tcommon.ticker_fiber t (fun () -> !hog_done));
      Sched.fork (fun () -> Miou_fair.hog ~seconds hog_done chunks));
  Tcommon.result
    ([ ("worst_gap_ms", Tcommon.ms t.worst); ("hog_chunks", Tcommon.i !chunks) ]
    @ Tcommon.sched_counters ())
