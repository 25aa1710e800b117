(* Shared by the benchmark programs: CPU-time accounting, percentiles, the request-stream
   workload (deterministic from a seed) and its report. *)

let sink = ref 0

(* The unit of work: an integer loop with a poll point at its back edge, as in the demo. *)
let spin n =
  let x = ref 0 in
  for i = 1 to n do x := (!x * 7 + i) land 0xFFFF done;
  sink := !sink + !x

(* [spin n] in chunks of [chunk] iterations, calling [yield] between chunks (the
   cooperative version); [chunk <= 0]: no yields. *)
let work ~chunk ~yield n =
  if chunk <= 0 then spin n
  else begin
    let left = ref n in
    while !left > 0 do
      let k = min chunk !left in
      spin k;
      left := !left - k;
      if !left > 0 then yield ()
    done
  end

(* CPU time of each thread of this process from /proc/self/task/*/schedstat (ns on CPU).
   Returns (this thread's, the other threads'). *)
let thread_cpu_ns () =
  let read_first path =
    try
      let ic = open_in path in
      let l = input_line ic in
      close_in ic;
      Scanf.sscanf l "%d" (fun n -> n)
    with _ -> 0 in
  let self = string_of_int (Unix.getpid ()) in
  let tasks = try Sys.readdir "/proc/self/task" with _ -> [||] in
  Array.fold_left (fun (mine, others) tid ->
      let ns = read_first ("/proc/self/task/" ^ tid ^ "/schedstat") in
      if tid = self then (mine + ns, others) else (mine, others + ns))
    (0, 0) tasks

(* The calling thread's CPU time (ns on CPU), from /proc/thread-self/schedstat. *)
let this_thread_cpu_ns () =
  try
    let ic = open_in "/proc/thread-self/schedstat" in
    let l = input_line ic in
    close_in ic;
    Scanf.sscanf l "%d" (fun n -> n)
  with _ -> 0

let report_cpu () =
  let mine, others = thread_cpu_ns () in
  Printf.printf "bench: cpu_main_ns=%d cpu_other_ns=%d\n" mine others

let percentile sorted p =
  let n = Array.length sorted in
  if n = 0 then nan
  else sorted.(min (n - 1) (int_of_float (Float.ceil (p *. float n)) - 1 |> max 0))

(* The request stream: [n_short] short requests (Poisson arrivals over [duration] s) and
   [n_long] long ones at random times in the first 80% of it. Sorted by arrival. *)
type request = { arrival : float; iters : int; long : bool }

let requests ~seed ~duration ~n_short ~n_long ~short_iters ~long_iters =
  let st = Random.State.make [| seed |] in
  let rate = float n_short /. duration in
  let t = ref 0.0 and l = ref [] in
  for _ = 1 to n_short do
    t := !t -. log (1.0 -. Random.State.float st 1.0) /. rate;
    l := { arrival = !t; iters = short_iters; long = false } :: !l
  done;
  for _ = 1 to n_long do
    l := { arrival = Random.State.float st (0.8 *. duration); iters = long_iters; long = true } :: !l
  done;
  let a = Array.of_list !l in
  Array.sort (fun a b -> compare a.arrival b.arrival) a;
  a

(* Prints percentiles of the response times and dumps them (ms, one per line, "s"/"l"
   kind) to [dump] if non-empty. *)
let report_requests reqs (resp : float array) dump =
  let pick f = Array.of_list (List.filter_map Fun.id
                 (Array.to_list (Array.mapi (fun i r -> if f reqs.(i) then Some resp.(i) else None) resp))) in
  let all = Array.copy resp and short = pick (fun r -> not r.long) and long = pick (fun r -> r.long) in
  Array.sort compare all; Array.sort compare short; Array.sort compare long;
  let ms x = x *. 1000.0 in
  Printf.printf "bench: requests=%d short_p50_ms=%.3f short_p99_ms=%.3f short_max_ms=%.3f \
                 all_p50_ms=%.3f all_p99_ms=%.3f all_max_ms=%.3f long_p50_ms=%.3f long_max_ms=%.3f\n"
    (Array.length resp)
    (ms (percentile short 0.5)) (ms (percentile short 0.99)) (ms (percentile short 1.0))
    (ms (percentile all 0.5)) (ms (percentile all 0.99)) (ms (percentile all 1.0))
    (ms (percentile long 0.5)) (ms (percentile long 1.0));
  if dump <> "" then begin
    let oc = open_out dump in
    Array.iteri (fun i r -> Printf.fprintf oc "%s %.6f\n" (if reqs.(i).long then "l" else "s") (ms r)) resp;
    close_out oc
  end
