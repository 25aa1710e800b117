(* The ocpreempt demo: a cooperative scheduler running two fibers on one domain.
   [ticker] yields after every tick; [hog] computes for about a second and never yields.
   Without ocpreempt the ticker starves until the hog finishes; with it the ticker gets
   its turn about once per quantum:

     build/demo/demo                                             # worst gap ~1 s
     scripts/ocpreempt run --yield Demo.yield -- build/demo/demo # worst gap ~10-20 ms *)

open Effect
open Effect.Deep

type _ Effect.t += Yield : unit Effect.t

(* The scheduler's yield: toplevel, unit -> unit. ocpreempt calls it for us. *)
let yield () = perform Yield

let run_queue : (unit -> unit) Queue.t = Queue.create ()

let spawn f =
  let handler =
    { retc = (fun () -> ());
      exnc = raise;
      effc = (fun (type a) (e : a Effect.t) ->
        match e with
        | Yield -> Some (fun (k : (a, unit) continuation) ->
            Queue.push (fun () -> continue k ()) run_queue)
        | _ -> None) } in
  Queue.push (fun () -> match_with f () handler) run_queue

let rec run () =
  match Queue.take_opt run_queue with
  | Some f -> f (); run ()
  | None -> ()

let () =
  let finished = ref false and worst = ref 0.0 and ticks = ref 0 in
  spawn (fun () ->
    let last = ref (Unix.gettimeofday ()) in
    (* The gap is measured on every turn, including the first after the hog finished. *)
    let rec tick () =
      let now = Unix.gettimeofday () in
      worst := Float.max !worst (now -. !last);
      last := now;
      incr ticks;
      if not !finished then (yield (); tick ()) in
    tick ());
  spawn (fun () ->
    let x = ref 0 in
    for i = 1 to 500_000_000 do x := (!x * 7 + i) land 0xFFFF done;
    finished := true;
    Printf.printf "hog: result %d\n" !x);
  run ();
  Printf.printf "ticker: %d ticks, worst gap between ticks %.1f ms\n" !ticks (!worst *. 1000.)
