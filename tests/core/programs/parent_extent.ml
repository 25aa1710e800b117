(* parent_extent: an extent on a *parent* fiber (issue 15, adversary finding).

   The yield effect is handled by the scheduler's handler, up the handler chain, and
   suspends every fiber in between. Here the extent's frames are on one fiber and the
   work it runs on another: the extent runs its work under a local Effect.Deep handler
   (a state effect, as libraries do), so the running fiber's own frames are plain user
   code while its parent is stopped inside the extent.

   EXTENT=lazy: fiber A forces [shared], whose thunk runs the work under the local
   handler; fiber B forces the same value. Preempted inside, B gets Undefined.
   EXTENT=critical: Parent_crit.update (named in OCPREEMPT_CRITICAL by the runner) reads
   a counter, runs the work under the local handler, writes the counter + 1; two fibers
   update it; preempted inside, an update is lost.
   Either way the on_yield hook fails the program on any yield inside the extent. Then
   both fibers hog outside any extent, where preemptions must still land. *)

type _ Effect.t += Local : int Effect.t

let under_local_handler f =
  Effect.Deep.try_with f ()
    { effc =
        (fun (type a) (e : a Effect.t) ->
          match e with
          | Local -> Some (fun (k : (a, _) Effect.Deep.continuation) -> Effect.Deep.continue k 1)
          | _ -> None) }

let work ~flag seconds =
  under_local_handler (fun () -> Busy.for_seconds ~flag seconds + Effect.perform Local)

let () =
  Tcommon.main "parent_extent" @@ fun () ->
  let scale = Tcommon.scale () in
  let extent = try Sys.getenv "EXTENT" with Not_found -> "lazy" in
  let inside = ref false and outside = ref 0 and undefined = ref 0 in
  let seconds = 0.3 *. float_of_int scale in
  let shared = lazy (let n = work ~flag:inside seconds in Tcommon.fake_yield (); n) in
  let in_extent () =
    match extent with
    | "lazy" -> (
        match Lazy.force shared with
        | _ -> ()
        | exception CamlinternalLazy.Undefined -> incr undefined)
    | "critical" ->
        Parent_crit.update (fun () ->
            let n = work ~flag:inside (seconds /. 2.) in
            Tcommon.fake_yield ();
            n)
    | other -> Tcommon.fail "EXTENT=%s: expected lazy or critical" other
  in
  let fiber () =
    in_extent ();
    outside := !outside + Busy.for_seconds 0.1
  in
  Sched.run ~on_yield:(Busy.refuse_inside [ ("the " ^ extent ^ " extent", inside) ]) (fun () ->
      Sched.fork fiber;
      Sched.fork fiber);
  if !undefined > 0 then
    Tcommon.fail "%d fiber(s) got CamlinternalLazy.Undefined forcing a shared lazy" !undefined;
  if extent = "critical" && !Parent_crit.counter <> 2 then
    Tcommon.fail "lost an update: counter %d after 2 updates" !Parent_crit.counter;
  Tcommon.result
    ([ ("undefined", Tcommon.i !undefined); ("outside_chunks", Tcommon.i !outside) ]
    @ Tcommon.sched_counters ())
