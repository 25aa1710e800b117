(* The request stream of bench_fib, served by systhreads instead of fibers: one Thread per
   request, created by the main thread at the request's arrival time. Threads share the
   domain lock, switched by OCaml's 50 ms tick.
     bench_thr requests SEED DURATION N_SHORT N_LONG SHORT_ITERS LONG_ITERS [DUMP] *)

let () =
  let a = Sys.argv in
  let arg i = if Array.length a > i then a.(i) else "" in
  let int i = int_of_string (arg i) in
  if arg 1 <> "requests" then (prerr_endline "usage: see bench/bench_thr.ml"; exit 2);
  let reqs = Common.requests ~seed:(int 2) ~duration:(float_of_string (arg 3)) ~n_short:(int 4)
      ~n_long:(int 5) ~short_iters:(int 6) ~long_iters:(int 7) in
  let resp = Array.make (Array.length reqs) nan in
  let start = Unix.gettimeofday () +. 0.01 in
  let handle i =
    Common.spin reqs.(i).Common.iters;
    resp.(i) <- Unix.gettimeofday () -. (start +. reqs.(i).arrival) in
  let threads = ref [] in
  Array.iteri (fun i r ->
      let wait = start +. r.Common.arrival -. Unix.gettimeofday () in
      if wait > 0.0 then Unix.sleepf wait;
      threads := Thread.create handle i :: !threads)
    reqs;
  List.iter Thread.join !threads;
  Common.report_requests reqs resp (arg 8);
  Common.report_cpu ()
