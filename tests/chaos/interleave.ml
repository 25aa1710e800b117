(* interleave: the schedule made visible, for the chaos-mode tests.

   Four fibers on a round-robin scheduler (Sched.yield); none yields by itself. Each does [steps]
   steps of allocating work and records its id after every step, so the recorded sequence
   is the schedule: without preemption 0...0 1...1 2...2 3...3 (3 switches), under chaos
   mode it depends on where the fibers were preempted, and only on that. Prints
   "interleave: switches=N digest=HEX". With "domains" as second argument the same runs on
   a second domain too (replay is then not guaranteed, and chaos mode says so).

   Usage: interleave [steps (default 300)] [domains] *)

(* The fibers run under the core tests' scheduler (tests/core/programs/sched.ml). *)
let run_fibers fibers = Sched.run (fun () -> List.iter Sched.fork fibers)

(* Allocating work whose result does not depend on the schedule. *)
let step id n =
  let l = List.init (20 + (n land 7)) (fun i -> (i * id) + n) in
  List.fold_left (fun acc x -> (acc * 31 + x) land 0xFFFFFF) 0 l

let schedule steps =
  let order = Array.make (4 * steps) (-1) and pos = ref 0 and sum = ref 0 in
  let fiber id () =
    for n = 1 to steps do
      sum := (!sum + step id n) land 0xFFFFFF;
      order.(!pos) <- id;
      incr pos
    done in
  run_fibers (List.init 4 fiber);
  let switches = ref 0 in
  Array.iteri (fun i id -> if i > 0 && id <> order.(i - 1) then incr switches) order;
  let digest = Digest.to_hex (Digest.string (String.concat "," (Array.to_list
                 (Array.map string_of_int order)))) in
  !switches, digest, !sum

let () =
  let steps = if Array.length Sys.argv > 1 then int_of_string Sys.argv.(1) else 300 in
  let domains = Array.length Sys.argv > 2 && Sys.argv.(2) = "domains" in
  let other = if domains then Some (Domain.spawn (fun () -> schedule steps)) else None in
  let switches, digest, sum = schedule steps in
  Option.iter (fun d -> ignore (Domain.join d)) other;
  Printf.printf "interleave: switches=%d digest=%s sum=%d\n" switches digest sum
