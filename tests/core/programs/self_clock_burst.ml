(* self_clock_burst: a fiber allocates a burst, then computes without allocating, beside a
   ticker, under its own round-robin scheduler (OCPREEMPT_YIELD=Self_clock_burst.yield);
   the adversary's reproducer of issue 20's F2, kept as it was written: with the
   self-clock's young_limit word-aligned, an allocation could end exactly on it, and every
   poll of the computing loop then trapped (the poll traps at young_ptr <= young_limit,
   the runtime's C check acts at <) and returned having done nothing: 3.5-5x slower.
   Usage: self_clock_burst [SECONDS]. Prints rounds per CPU second (Sys.time) for
   self_clock_ratio.sh, which compares it with and without self-clocking. *)

type _ Effect.t += Yield : unit Effect.t

let yield () = Effect.perform Yield

let run fibers =
  let q = Queue.create () in
  let spawn f =
    Queue.push (fun () ->
        Effect.Deep.match_with f ()
          { retc = (fun () -> ()); exnc = raise;
            effc = (fun (type a) (e : a Effect.t) ->
                match e with
                | Yield -> Some (fun (k : (a, unit) Effect.Deep.continuation) ->
                    Queue.push (fun () -> Effect.Deep.continue k ()) q)
                | _ -> None) }) q in
  List.iter spawn fibers;
  while not (Queue.is_empty q) do (Queue.pop q) () done

let now = Unix.gettimeofday
let secs = try float_of_string Sys.argv.(1) with _ -> 2.0
let fail fmt = Printf.ksprintf (fun s -> print_endline ("FAIL " ^ s); exit 1) fmt

let ticker stop () = while not !stop do yield () done

let spin n =
  let acc = ref 0 in
  for i = 1 to n do acc := (!acc * 31 + i) land 0xFFFFFF done;
  !acc

let spin_ref = spin 1_000_000

let alloc_burst n =
  let l = List.init n (fun i -> i) in
  if List.fold_left ( + ) 0 l <> n * (n - 1) / 2 then fail "alloc_burst"

let () =
  let stop = ref false and rounds = ref 0 in
  let t0 = now () in
  let cpu0 = Sys.time () in
  let hog () =
    while now () -. t0 < secs do
      alloc_burst 200_000;
      for _ = 1 to 40 do if spin 1_000_000 <> spin_ref then fail "spin" done;
      incr rounds
    done;
    stop := true in
  run [ ticker stop; hog ];
  let cpu = Sys.time () -. cpu0 in
  Printf.printf "RESULT self_clock_burst rounds=%d cpu_ms=%.1f rounds_per_cpu_s=%.2f\n" !rounds
    (cpu *. 1000.) (float_of_int !rounds /. cpu)
