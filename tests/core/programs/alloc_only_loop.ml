(* alloc_only_loop: a hog whose loops allocate on every iteration, so OCaml puts no poll in
   them (asmcomp/polling.ml): their allocations are their only safe points.

   The hog runs a while loop, then a self tail-recursive function, each consing on every
   iteration (every path allocates, so neither gets a poll) for ~0.7 s, beside a ticker.
   With OCPREEMPT_SITES=all or loop it is preempted at those allocations (runner: worst
   gap < 250 ms); with poll it cannot be, which is what `poll` gives up: the runner wants
   the starvation (> 500 ms) there, proving that the policy removes the allocation sites.
   Iteration counts and list contents are checked. *)

let[@inline never] hog_while deadline =
  let acc = ref [] and i = ref 0 and stop = ref false in
  while not !stop do
    incr i;
    acc := (!i, !i) :: (if !i land 0xFFFF = 0 then [] else !acc);
    if !i land 4095 = 0 && Tcommon.now () > deadline then stop := true
  done;
  (!i, !acc)

let[@inline never] rec hog_rec deadline acc i =
  let acc = i :: (if i land 0xFFFF = 0 then [] else acc) in
  if i land 4095 = 0 && Tcommon.now () > deadline then (i, acc)
  else hog_rec deadline acc (i + 1)

let () =
  Tcommon.main "alloc_only_loop" @@ fun () ->
  let seconds = 0.7 *. float_of_int (Tcommon.scale ()) in
  let t = Tcommon.new_ticker () in
  let hog_done = ref false and iterations = ref 0 in
  Sched.run (fun () ->
      Sched.fork (Tcommon.ticker_fiber t (fun () -> !hog_done));
      Sched.fork (fun () ->
          let n, l = hog_while (Tcommon.now () +. seconds) in
          if n < 4096 || l = [] || fst (List.hd l) <> n then Tcommon.fail "hog_while: %d" n;
          let m, k = hog_rec (Tcommon.now () +. seconds) [] 1 in
          if m < 4096 || List.hd k <> m then Tcommon.fail "hog_rec: %d" m;
          iterations := n + m;
          hog_done := true));
  Tcommon.result
    ([ ("worst_gap_ms", Tcommon.ms t.worst); ("iterations", Tcommon.i !iterations) ]
    @ Tcommon.sched_counters ())
