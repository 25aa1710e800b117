(* recursion_extents: a critical extent below a recursion whose frames look alike at every
   depth (issue 15 item 1).

   A fiber runs a recursion of DEPTH frames and computes at its bottom (phase 1: outside
   any extent, where preemptions land), then the same recursion, of the same shape and
   depth, inside an extent (phase 2: where no preemption may land). The recursions lay the
   same words at every depth: [down] 8-byte frames holding only a return address, [down2]
   16-byte frames holding the return address and the same spilled value, [even]/[odd]
   mutual recursion alternating two return addresses. Between the extent and the
   recursion: nothing, one 8-byte frame, an exception handler, or both. A walk that took
   the frames below a remembered point to be unchanged because their words are (the
   checkpoints of 29927fd) misses the extent frames under phase 2's recursion and lets a
   preemption land inside.

   The extent (EXTENT): [lazy] a fresh Lazy.force thunk; [hashtbl] a Hashtbl.Make table's
   own hash function, called by H.replace; [critical] Recursion_extents.critical, named
   by the runner in OCPREEMPT_CRITICAL. The on_yield hook fails the program on a yield
   inside phase 2 (flag [inside]); a second fiber computes in short turns, so that the
   first one is overdue and asked to yield. Reported: the first fiber's phase-1 yields
   (preemptions outside: the runner wants them, so that the walk was exercised before
   phase 2). CASE=SHAPE/BETWEEN (down2/handler_pad) runs one case only. With
   CORE_FAKE_PREEMPT=1 the program yields at the bottom of phase 2 itself: the check must
   fail. *)

let depth = 2_000
let inside = ref false
let outside_yields = ref 0
let in_phase1 = ref false

(* The recursions. [@inline never] everywhere: the shapes must be what the comment says. *)
let[@inline never] rec down n k = if n = 0 then k () else 1 + down (n - 1) k

let[@inline never] rec down2 n k c = if n = 0 then k () else c + down2 (n - 1) k c

let[@inline never] rec even n k = if n = 0 then k () else 1 + odd (n - 1) k
and[@inline never] odd n k = if n = 0 then k () else 2 + even (n - 1) k

type shape = Down | Down2 | Mutual

let shape_name = function Down -> "down" | Down2 -> "down2" | Mutual -> "mutual"

let recurse shape k =
  match shape with
  | Down -> down depth k
  | Down2 -> down2 depth k 7
  | Mutual -> even depth k

(* What lies between the extent frame and the recursion. *)
type between = Nothing | Pad | Handler | Handler_pad

let between_name = function
  | Nothing -> "nothing" | Pad -> "pad" | Handler -> "handler" | Handler_pad -> "handler_pad"

let[@inline never] pad f = 1 + f ()

let[@inline never] handler f = try f () with Exit -> 0

let through between f =
  match between with
  | Nothing -> f ()
  | Pad -> pad f
  | Handler -> handler f
  | Handler_pad -> handler (fun () -> pad f)

let compute seconds () = Busy.for_seconds seconds

(* Phase 2 runs here, inside the extent. *)
let[@inline never] in_extent shape between () =
  inside := true;
  let r =
    through between (fun () ->
        recurse shape (fun () ->
            let n = compute 0.06 () in
            Tcommon.fake_yield ();
            n))
  in
  inside := false;
  r

(* A user critical section (OCPREEMPT_CRITICAL=Recursion_extents.critical). *)
let[@inline never] critical f = 1 + f ()

let slow_hash = ref (fun () -> 0)

module K = Hashtbl.Make (struct
  type t = int

  let equal = Int.equal
  let hash x = if x < 0 then !slow_hash () land 0 else Hashtbl.hash x
end)

let in_extent_of kind shape between =
  let body = in_extent shape between in
  match kind with
  | "lazy" -> Lazy.force (lazy (body ()))
  | "hashtbl" ->
    let t = K.create 8 in
    slow_hash := body;
    K.replace t (-1) 0;
    K.length t
  | "critical" -> critical body
  | k -> Tcommon.fail "EXTENT=%S: want lazy, hashtbl or critical" k

let () =
  Tcommon.main "recursion_extents" @@ fun () ->
  let kind = Option.value (Sys.getenv_opt "EXTENT") ~default:"lazy" in
  (* CASE=SHAPE/BETWEEN (e.g. mutual/handler) runs that case only *)
  let only = Sys.getenv_opt "CASE" in
  let selected shape between =
    match only with
    | None | Some "" -> true
    | Some c -> c = shape_name shape ^ "/" ^ between_name between
  in
  let stop = ref false and sink = ref 0 and cases = ref 0 in
  let on_yield ~fiber ~nth =
    if !in_phase1 && fiber = 1 then incr outside_yields;
    Busy.refuse_inside [ (Printf.sprintf "phase 2 (%s extent)" kind, inside) ] ~fiber ~nth
  in
  Sched.run ~on_yield (fun () ->
      Sched.fork (fun () ->
          List.iter
            (fun shape ->
              List.iter
                (fun between ->
                  if selected shape between then begin
                  in_phase1 := true;
                  sink := !sink + recurse shape (compute 0.03);
                  in_phase1 := false;
                  sink := !sink + in_extent_of kind shape between;
                  incr cases
                  end)
                [ Nothing; Pad; Handler; Handler_pad ])
            [ Down; Down2; Mutual ];
          stop := true);
      Sched.fork (fun () ->
          while not !stop do
            sink := !sink + Kernels.spin Kernels.seeds.(0) 2_000;
            Sched.pause ()
          done));
  Tcommon.result
    ([ ("extent", kind); ("cases", Tcommon.i !cases);
       ("outside_yields", Tcommon.i !outside_yields) ]
    @ Tcommon.sched_counters ())
