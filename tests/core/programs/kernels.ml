(* Kernels: deterministic pieces of work whose result is a checksum.

   The exactness argument of every core test: a kernel is a pure function of (seed,
   iterations). The program computes it once per seed on the main fiber (which the
   shim never preempts; module initialisation and code outside [Sched.run] run there)
   and then many times inside fibers, where preemptions land at its poll and
   allocation points. Any register, stack slot, float or heap value that a preemption
   corrupts changes the checksum, and the comparison is exact (ints, or the bits of
   floats). The kernels are [@inline never] so that both runs execute the very same
   machine code.

   Each kernel takes ~0.3-3 ms at the iteration counts used by the programs, so a
   fiber running one is preempted several times per call at a 100us..1ms quantum. *)

(* --- spin: the hog. Non-allocating, a couple of live ints. --------------------- *)

let[@inline never] spin seed iters =
  let a = ref seed and b = ref (seed lxor 0x2545F4914F6CDD1D) in
  for i = 1 to iters do
    a := (!a * 0x1851F42D4C957F2D) + i;
    b := !b lxor ((!a lsr 29) + (!b lsl 7))
  done;
  !a lxor !b

(* --- poll: register pressure, no allocation ------------------------------------

   12 tagged ints, 4 int64 and 2 nativeint locals (unboxed by the compiler: local
   refs of boxed-integer type become unboxed mutable variables), plus two loop
   counters, all live across the loops' poll points. That is more than the 13
   allocatable integer registers of amd64, so some live in registers and some in
   stack slots across the poll: a preemption must preserve both, and the untagged
   int64/nativeint values must not be mistaken for pointers (nor "fixed up") by
   anything that scans the stack. The inner loop keeps a second counter live. *)

let[@inline never] poll_kernel seed iters =
  let a0 = ref seed and a1 = ref (seed + 1) and a2 = ref (seed * 3)
  and a3 = ref (seed lxor 0x5555) and a4 = ref 7 and a5 = ref (seed lsl 4)
  and a6 = ref (-seed) and a7 = ref 0x1234567 and a8 = ref (seed * seed)
  and a9 = ref 99 and a10 = ref (seed + 0xABCDEF) and a11 = ref 1 in
  let x0 = ref (Int64.of_int seed) and x1 = ref 0x0123456789ABCDEFL
  and x2 = ref (-1L) and x3 = ref (Int64.of_int (seed * 77)) in
  let n0 = ref (Nativeint.of_int seed) and n1 = ref 0x7FFF0000n in
  for i = 1 to iters do
    for j = 0 to 2 do
      a0 := !a0 + (!a1 lxor i);
      a1 := !a1 + (!a2 lsl 3) + j;
      a2 := !a2 lxor (!a3 lsr 5);
      a3 := !a3 + (!a4 * 31);
      a4 := !a4 lxor (!a5 + i);
      a5 := !a5 + (!a6 lsr 2);
      a6 := !a6 - (!a7 lxor j);
      a7 := !a7 + (!a8 land 0xFFFFF);
      a8 := (!a8 * 5) + !a9;
      a9 := !a9 lxor (!a10 lsl 1);
      a10 := !a10 + (!a11 lsr 1) + i;
      a11 := !a11 + (!a0 land 0xFFFF);
      x0 := Int64.add (Int64.mul !x0 6364136223846793005L) (Int64.of_int !a5);
      x1 := Int64.logxor !x1 (Int64.shift_right_logical !x0 13);
      x2 := Int64.add !x2 (Int64.shift_left !x1 7);
      x3 := Int64.sub !x3 (Int64.logor !x2 (Int64.of_int j));
      n0 := Nativeint.add (Nativeint.mul !n0 3n) (Nativeint.of_int !a7);
      n1 := Nativeint.logxor !n1 (Nativeint.shift_right !n0 3)
    done
  done;
  let ints =
    !a0 + (3 * !a1) + (5 * !a2) + (7 * !a3) + (11 * !a4) + (13 * !a5)
    + (17 * !a6) + (19 * !a7) + (23 * !a8) + (29 * !a9) + (31 * !a10)
    + (37 * !a11)
  in
  let boxed =
    Int64.to_int (Int64.logxor (Int64.logxor !x0 !x1) (Int64.add !x2 !x3))
    lxor Nativeint.to_int (Nativeint.add !n0 !n1)
  in
  ints lxor boxed

(* --- float: many live unboxed floats --------------------------------------------

   Eight chaotic logistic maps (x <- 3.99 x (1-x)) and eight accumulators, plus the
   loop index as a float: 17+ floats live across the loop's poll point, more than the
   16 xmm registers, so some are in xmm registers and some spilled. The maps are
   chaotic: a single flipped low bit in any state diverges completely within a few
   dozen iterations, so the final bits reveal any corruption. Compared bit-exactly
   via Int64.bits_of_float. *)

let[@inline never] float_kernel seed iters =
  let s = float_of_int (seed land 0xFF) *. 0.001 in
  let f0 = ref (0.11 +. s) and f1 = ref (0.23 +. s) and f2 = ref (0.37 +. s)
  and f3 = ref (0.41 +. s) and f4 = ref (0.53 +. s) and f5 = ref (0.67 +. s)
  and f6 = ref (0.71 +. s) and f7 = ref (0.83 +. s) in
  let s0 = ref 0. and s1 = ref 1. and s2 = ref (-1.) and s3 = ref 0.5
  and s4 = ref s and s5 = ref 2. and s6 = ref 0. and s7 = ref 0. in
  for i = 1 to iters do
    let fi = float_of_int i in
    f0 := 3.99 *. !f0 *. (1. -. !f0);
    f1 := 3.99 *. !f1 *. (1. -. !f1);
    f2 := 3.98 *. !f2 *. (1. -. !f2);
    f3 := 3.97 *. !f3 *. (1. -. !f3);
    f4 := 3.99 *. !f4 *. (1. -. !f4);
    f5 := 3.96 *. !f5 *. (1. -. !f5);
    f6 := 3.99 *. !f6 *. (1. -. !f6);
    f7 := 3.95 *. !f7 *. (1. -. !f7);
    s0 := !s0 +. (!f0 *. !f1);
    s1 := !s1 +. !f2 -. (!f3 *. 0.5);
    s2 := (!s2 *. 0.999) +. !f4;
    s3 := !s3 +. sqrt (!f5 +. fi);
    s4 := !s4 +. (!f6 /. (1. +. fi));
    s5 := (!s5 *. 0.5) +. !f7 +. !s0 *. 1e-9;
    s6 := !s6 +. (!f0 -. !f7) *. fi;
    s7 := !s7 +. (!s1 *. 1e-6) -. !f3
  done;
  let b x = Int64.to_int (Int64.bits_of_float x) in
  b !f0 lxor (b !f1 lsl 1) lxor (b !f2 lsl 2) lxor (b !f3 lsl 3)
  lxor (b !f4 lsl 4) lxor (b !f5 lsl 5) lxor (b !f6 lsl 6) lxor (b !f7 lsl 7)
  lxor (b !s0 * 3) lxor (b !s1 * 5) lxor (b !s2 * 7) lxor (b !s3 * 11)
  lxor (b !s4 * 13) lxor (b !s5 * 17) lxor (b !s6 * 19) lxor (b !s7 * 23)

(* --- alloc: allocation points with live values ---------------------------------

   Every iteration allocates: a combined allocation (the tuple [(i, (acc, k))] is two
   blocks the compiler allocates with one bump of the allocation pointer), a closure
   capturing locals, a list cell, an all-float record (flat, unboxed storage), an
   array, and periodically a record holding a float, a list and an int64. Structures
   are kept across iterations ([keep]) and re-verified. [Sys.opaque_identity] keeps
   the compiler from eliminating the allocations. Live values across the allocation
   points: ints, floats (xmm) and pointers to young objects — a preemption at an
   allocation must leave all of them intact, and the block being allocated must be
   initialised exactly once. *)

type fpair = { fx : float; fy : float }

type kept = { k_sum : int; k_float : float; k_list : int list; k_boxed : int64 }

let[@inline never] alloc_kernel seed iters =
  let acc = ref seed in
  let lst = ref [] in
  let fp = ref { fx = float_of_int seed; fy = 0.25 } in
  let keep = ref [] in
  let nkeep = ref 0 in
  let verify_kept k =
    (* a kept record is self-describing: its sum is the sum of its list *)
    if List.fold_left ( + ) 0 k.k_list <> k.k_sum then
      Tcommon.fail "alloc_kernel: kept record corrupted (sum %d, list sums to %d)"
        k.k_sum (List.fold_left ( + ) 0 k.k_list);
    if Int64.to_int k.k_boxed <> k.k_sum * 3 then
      Tcommon.fail "alloc_kernel: kept int64 corrupted"
  in
  for i = 1 to iters do
    let t = Sys.opaque_identity (i, (!acc, i lxor seed)) in
    let p, (q, r) = t in
    let f = Sys.opaque_identity (fun x -> (x * p) + q - r) in
    acc := (!acc lxor f i) + p;
    lst := (i land 0xFF) :: !lst;
    let g = !fp in
    fp :=
      Sys.opaque_identity
        { fx = (g.fx *. 0.5) +. float_of_int p; fy = g.fy +. (1. /. float_of_int i) };
    let a = Sys.opaque_identity [| p; q; r; !acc |] in
    acc := !acc + a.(i land 3);
    let o = Sys.opaque_identity (Some (q, [ r; p ], !fp.fx)) in
    (match o with
     | Some (q', [ r'; p' ], fx) ->
       acc := !acc + q' - r' + p' + Int64.to_int (Int64.bits_of_float fx)
     | _ -> Tcommon.fail "alloc_kernel: option/list shape corrupted");
    if i land 63 = 0 then begin
      let s = List.fold_left ( + ) 0 !lst in
      keep :=
        { k_sum = s; k_float = !fp.fy; k_list = !lst; k_boxed = Int64.of_int (s * 3) }
        :: !keep;
      incr nkeep;
      lst := [];
      acc := !acc + s;
      if !nkeep = 32 then begin
        List.iter verify_kept !keep;
        List.iter
          (fun k -> acc := !acc + k.k_sum + Int64.to_int (Int64.bits_of_float k.k_float))
          !keep;
        keep := [];
        nkeep := 0
      end
    end
  done;
  List.iter verify_kept !keep;
  let b x = Int64.to_int (Int64.bits_of_float x) in
  !acc lxor b !fp.fx lxor (b !fp.fy lsl 3) lxor List.length !keep
  lxor List.fold_left ( + ) 0 !lst

(* --- reference tables and checked runs ----------------------------------------- *)

type kernel = { kname : string; run : int -> int -> int; iters : int }

(* The reference results, one per seed, computed where this is called: call it on
   the main fiber, before [Sched.run]. *)
let references (k : kernel) (seeds : int array) = Array.map (fun s -> k.run s k.iters) seeds

(* The standard sizes several programs share (a few ms per call each). *)
let std_poll = { kname = "poll"; run = poll_kernel; iters = 20_000 }
let std_alloc = { kname = "alloc"; run = alloc_kernel; iters = 10_000 }
let std_float = { kname = "float"; run = float_kernel; iters = 30_000 }

(* Runs kernel [k] on seed number [j] and compares with the main fiber's result. *)
let checked (k : kernel) (seeds : int array) (refs : int array) j =
  Tcommon.fake_yield ();
  let v = k.run seeds.(j) k.iters in
  if v <> refs.(j) then
    Tcommon.fail "%s kernel, seed %d: fiber computed %d, main fiber computed %d" k.kname
      seeds.(j) v refs.(j)

let seeds = [| 3; 17; 4242; 99991; 123456; 7; 65537; 31337 |]

(* The hog: [spin] on a rotating seed, each result checked, until [seconds] of wall
   time have passed. The loop itself does not allocate (gettimeofday is noalloc and
   unboxed), so without preemption nothing else runs on this scheduler meanwhile. *)
let spin_iters = 200_000

let spin_refs = Array.map (fun s -> spin s spin_iters) (Array.sub seeds 0 4)

let hog_fiber ~seconds (finished : bool ref) (chunks : int ref) () =
  let deadline = Unix.gettimeofday () +. seconds in
  while Unix.gettimeofday () < deadline do
    let j = !chunks land 3 in
    let v = spin seeds.(j) spin_iters in
    if v <> spin_refs.(j) then
      Tcommon.fail "hog: spin chunk %d (seed %d) computed %d, main fiber computed %d"
        !chunks seeds.(j) v spin_refs.(j);
    incr chunks
  done;
  finished := true

(* A hog that never yields beside a ticker fiber, on a scheduler of their own, started
   after [before ()] ran on it: the ticker's gaps are the hog's uninterrupted runs. Fails
   if the hog did not finish or the ticker ticked fewer than 2 times. *)
let hog_beside_ticker ?(before = fun () -> ()) ~seconds () =
  let t = Tcommon.new_ticker () in
  let hog_done = ref false and chunks = ref 0 in
  Sched.run (fun () ->
      before ();
      Sched.fork (Tcommon.ticker_fiber t (fun () -> !hog_done));
      Sched.fork (hog_fiber ~seconds hog_done chunks));
  if not !hog_done then Tcommon.fail "a hog did not finish";
  if t.ticks < 2 then Tcommon.fail "a ticker ticked %d times (want >= 2)" t.ticks;
  (t, !chunks)

(* [nfibers] fibers each run [rounds] checked kernel calls (seeds rotating), inside
   the current scheduler. Returns nothing; fails on the first mismatch. Call from a
   fiber (e.g. the [main] of [Sched.run]). *)
let fork_checked_fibers (k : kernel) refs ~nfibers ~rounds (completed : int array) =
  for f = 0 to nfibers - 1 do
    Sched.fork (fun () ->
        for r = 0 to rounds - 1 do
          checked k seeds refs ((f + r) mod Array.length seeds);
          completed.(f) <- completed.(f) + 1
        done)
  done

let check_completed what (completed : int array) ~rounds =
  Array.iteri
    (fun f n ->
      if n <> rounds then
        Tcommon.fail "%s: fiber %d ran %d of %d rounds" what f n rounds)
    completed

(* [Sched.run] over [nfibers] fibers of [rounds] checked poll-kernel calls, each completed
   (fails otherwise): a program whose fibers never yield voluntarily. *)
let run_checked_poll_fibers what ~nfibers ~rounds =
  let refs = references std_poll seeds in
  let completed = Array.make nfibers 0 in
  Sched.run (fun () -> fork_checked_fibers std_poll refs ~nfibers ~rounds completed);
  check_completed what completed ~rounds
