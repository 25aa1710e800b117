(* Fiber benchmarks run under ocpreempt (OCPREEMPT_YIELD=Sched.yield), driven by
   scripts/bench. Every result is one line "bench: key=value ...", then the CPU split.

     bench_fib overhead WORKLOAD SIZE FIBERS [COOP_US]
                                                 int | alloc | float | gc; COOP_US > 0: each
                                                 fiber yields after running that long
     bench_fib idle SECONDS                      sleeps (the request path's idle cost)
     bench_fib ticker HOG_ITERS [GAPS_FILE]      a hog beside a ticker fiber
     bench_fib domains HOG_ITERS                 the same in each of two domains
     bench_fib requests CHUNK SEED DURATION N_SHORT N_LONG SHORT_ITERS LONG_ITERS [DUMP]
                                                 open-loop request stream, a fiber each;
                                                 CHUNK > 0: yield () every CHUNK iterations
     bench_fib yield FIBERS COUNT                voluntary yields only
     bench_fib calibrate                         iterations of Common.spin per microsecond
     bench_fib startup                           prints the time main started *)

let sink = Common.sink

(* --- overhead workloads: SIZE units in all, split over FIBERS fibers ---

   Each workload runs in chunks (a few microseconds each); between chunks it calls
   [maybe_yield], which yields only in the cooperative configuration: once the running fiber
   has run [coop_interval] seconds. That configuration (no shim) shows what interleaving the
   fibers costs by itself (caches, live data of several fibers at once), apart from the
   shim's mechanism. *)

let coop_interval = ref 0.0
let coop_yields = ref 0
let run_start = ref 0.0

let maybe_yield () =
  if !coop_interval > 0.0 then begin
    let now = Unix.gettimeofday () in
    if now -. !run_start >= !coop_interval then begin
      incr coop_yields;
      Sched.yield ();
      run_start := Unix.gettimeofday ()
    end
  end

let chunk = 4096

let chunked n f =
  for _ = 1 to n / chunk do f chunk; maybe_yield () done;
  f (n mod chunk)

let int_loop n =
  let x = ref 0 in
  for i = 1 to n do x := (!x * 7 + i) land 0xFFFF done;
  sink := !sink + !x

let alloc_loop n =
  let l = ref [] in
  for i = 1 to n do
    l := Sys.opaque_identity (i :: !l);
    if i land 63 = 0 then l := []
  done;
  sink := !sink + List.length !l

let float_loop n =
  let s = ref 0.0 in
  for i = 1 to n do
    let f = float_of_int i in
    s := !s +. 1.0 /. (f *. f +. 1.0)
  done;
  sink := !sink + int_of_float (!s *. 1000.0)

type tree = Leaf | Node of tree * tree

let rec make d = if d = 0 then Node (Leaf, Leaf) else Node (make (d - 1), make (d - 1))
let rec check = function Leaf -> 0 | Node (l, r) -> 1 + check l + check r

(* Trees of depth 10 (~48 KB), 16 kept alive per fiber: promoted, so the major GC works. *)
let gc_loop n =
  let ring = Array.make 16 Leaf in
  for i = 1 to n do
    let t = make 10 in
    ring.(i land 15) <- t;
    sink := !sink + check t;
    maybe_yield ()
  done

let overhead workload size fibers coop_us =
  let f = match workload with
    | "int" -> fun n -> chunked n int_loop
    | "alloc" -> fun n -> chunked n alloc_loop
    | "float" -> fun n -> chunked n float_loop
    | "gc" -> gc_loop
    | w -> failwith ("unknown workload " ^ w) in
  coop_interval := float coop_us *. 1e-6;
  let per = size / fibers in
  for _ = 1 to fibers do Sched.spawn (fun () -> f per) done;
  let t0 = Unix.gettimeofday () in
  run_start := t0;
  Sched.run ();
  Printf.printf "bench: workload=%s wall_s=%.6f coop_yields=%d sink=%d\n" workload
    (Unix.gettimeofday () -. t0) !coop_yields !sink

(* --- an idle program: what the request path costs while nothing runs --- *)

let idle seconds =
  Sched.spawn (fun () -> Unix.sleepf seconds);
  Sched.run ();
  Printf.printf "bench: idle_s=%.3f\n" seconds

(* --- a hog beside a ticker: the ticker's gaps are the hog's uninterrupted runs --- *)

(* The hog and the ticker on the calling domain's scheduler; the ticker's gaps, sorted,
   and the run's wall time (after writing them to gaps_file if not ""). *)
let hog_and_ticker hog_iters gaps_file =
  let finished = ref false in
  let gaps = Array.make 1_000_000 0.0 and n = ref 0 in
  Sched.spawn (fun () ->
    let last = ref (Unix.gettimeofday ()) in
    while not !finished do
      Sched.yield ();
      let now = Unix.gettimeofday () in
      if !n < Array.length gaps then (gaps.(!n) <- now -. !last; incr n);
      last := now
    done);
  Sched.spawn (fun () -> int_loop hog_iters; finished := true);
  let t0 = Unix.gettimeofday () in
  Sched.run ();
  let wall = Unix.gettimeofday () -. t0 in
  let g = Array.sub gaps 0 !n in
  if gaps_file <> "" then begin
    let oc = open_out gaps_file in
    Array.iter (fun x -> Printf.fprintf oc "%.3f\n" (x *. 1e6)) g;
    close_out oc
  end;
  Array.sort compare g;
  (g, wall)

let ticker hog_iters gaps_file =
  let g, wall = hog_and_ticker hog_iters gaps_file in
  let us p = Common.percentile g p *. 1e6 in
  Printf.printf "bench: ticks=%d gap_p50_us=%.1f gap_p99_us=%.1f gap_max_us=%.1f wall_s=%.6f\n"
    (Array.length g) (us 0.5) (us 0.99) (us 1.0) wall

(* Two domains, each a hog beside a ticker: both domains' gaps, and the CPU of the domain
   threads themselves (the rest of cpu_other_ns is the monitor and the runtime's own
   threads). *)
let domains hog_iters =
  let one () =
    let g, _ = hog_and_ticker hog_iters "" in
    let mine = Common.this_thread_cpu_ns () in
    (g, mine)
  in
  let t0 = Unix.gettimeofday () in
  let d1 = Domain.spawn one and d2 = Domain.spawn one in
  let (g1, c1) = Domain.join d1 and (g2, c2) = Domain.join d2 in
  let us g p = Common.percentile g p *. 1e6 in
  Printf.printf "bench: d1_gap_p50_us=%.1f d1_gap_p99_us=%.1f d2_gap_p50_us=%.1f \
                 d2_gap_p99_us=%.1f domains_cpu_ns=%d wall_s=%.6f\n"
    (us g1 0.5) (us g1 0.99) (us g2 0.5) (us g2 0.99) (c1 + c2)
    (Unix.gettimeofday () -. t0)

(* --- the request stream --- *)

let requests chunk seed duration n_short n_long short_iters long_iters dump =
  let reqs = Common.requests ~seed ~duration ~n_short ~n_long ~short_iters ~long_iters in
  let resp = Array.make (Array.length reqs) nan in
  let start = Unix.gettimeofday () +. 0.01 in
  let handle i () =
    Common.work ~chunk ~yield:Sched.yield reqs.(i).Common.iters;
    resp.(i) <- Unix.gettimeofday () -. (start +. reqs.(i).arrival) in
  (* The generator: spawns every request whose arrival time has passed, then yields (or
     sleeps until the next arrival when nothing else is runnable). Response times count
     from the scheduled arrival, so a generator kept from running is charged for. *)
  Sched.spawn (fun () ->
    let next = ref 0 in
    while !next < Array.length reqs do
      let now = Unix.gettimeofday () in
      while !next < Array.length reqs && start +. reqs.(!next).arrival <= now do
        Sched.spawn (handle !next); incr next
      done;
      if !next < Array.length reqs then begin
        if Sched.runnable () = 0 then
          Unix.sleepf (Float.max 0.0 (start +. reqs.(!next).arrival -. now))
        else Sched.yield ()
      end
    done);
  Sched.run ();
  Common.report_requests reqs resp dump

(* --- voluntary yields --- *)

let yields fibers count =
  for _ = 1 to fibers do
    Sched.spawn (fun () -> for _ = 1 to count do Sched.yield () done)
  done;
  let t0 = Unix.gettimeofday () in
  Sched.run ();
  Printf.printf "bench: yields=%d wall_s=%.6f\n" (fibers * count) (Unix.gettimeofday () -. t0)

let calibrate () =
  let best = ref infinity and n = 2_000_000 in
  for _ = 1 to 7 do
    let t0 = Unix.gettimeofday () in
    Common.spin n;
    best := Float.min !best (Unix.gettimeofday () -. t0)
  done;
  Printf.printf "bench: iters_per_us=%.1f\n" (float n /. (!best *. 1e6))

let () =
  let a = Sys.argv in
  let arg i = if Array.length a > i then a.(i) else "" in
  let int i = int_of_string (arg i) in
  (match arg 1 with
   | "overhead" -> overhead (arg 2) (int 3) (int 4) (if arg 5 = "" then 0 else int 5)
   | "idle" -> idle (float_of_string (arg 2))
   | "ticker" -> ticker (int 2) (arg 3)
   | "domains" -> domains (int 2)
   | "requests" ->
     requests (int 2) (int 3) (float_of_string (arg 4)) (int 5) (int 6) (int 7) (int 8) (arg 9)
   | "yield" -> yields (int 2) (int 3)
   | "calibrate" -> calibrate ()
   | _ -> prerr_endline "usage: see bench/bench_fib.ml"; exit 2);
  Common.report_cpu ()
