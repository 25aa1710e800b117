(* The subject of the hardening tests and a seed of the fuzz drivers: fibers of the core
   tests' scheduler (Sched, tests/core/programs/sched.ml; OCPREEMPT_YIELD=Sched.yield) that
   allocate and poll, and [never_called], whose allocation sites never run: the tests
   corrupt its frame descriptors, which the program alone never looks at, so a doctored
   copy still runs normally without the shim. Prints "hardening_subject ok <sum>".
   [hardening_subject quick] does 1/100 of the work (the fuzz driver runs many copies). *)
let rec never_called n acc = if n = 0 then acc else never_called (n - 1) ((n, n) :: acc)

let total = ref 0
let scale = if Array.length Sys.argv > 1 && Sys.argv.(1) = "quick" then 100 else 1

let work n () =
  let acc = ref [] in
  for i = 1 to n do
    acc := (i, i * i) :: !acc;
    if i mod 1000 = 0 then (acc := []; Sched.pause ())
  done;
  total := !total + n

let () =
  if Array.length Sys.argv > 99 then ignore (never_called 3 []);
  Sched.run (fun () ->
    Sched.fork (work (20_000_000 / scale));
    Sched.fork (work (20_000_000 / scale));
    work (10_000_000 / scale) ());
  Printf.printf "hardening_subject ok %d\n" !total
