(* c_stall: one fiber spins for a given CPU time, in C (a plain external, c_stall_stubs.c;
   or a [@@noalloc] one) or in OCaml (the twin; or holding a Mutex.t, so that every
   request is refused), under a hand-rolled scheduler, beside a fiber that yields now and
   then. The stall tests (stall_test.sh) check that the shim's stats name the C function
   for the first and no C function for the others.
   Usage: c_stall (c|noalloc|ocaml|mutex|spin_sleep|spin_spin) MS *)

external spin_cpu : int -> unit = "c_stall_spin_cpu"
external spin_cpu_noalloc : (int [@untagged]) -> unit
  = "c_stall_spin_cpu_noalloc_byte" "c_stall_spin_cpu_noalloc" [@@noalloc]
external cpu_ns : unit -> (int [@untagged]) = "c_stall_cpu_ns_byte" "c_stall_cpu_ns"
  [@@noalloc]
external sleep_noalloc : (int [@untagged]) -> unit
  = "c_stall_sleep_noalloc_byte" "c_stall_sleep_noalloc" [@@noalloc]
external spin_again_noalloc : (int [@untagged]) -> unit
  = "c_stall_spin_again_noalloc_byte" "c_stall_spin_again_noalloc" [@@noalloc]

(* Three fibers share MS of CPU in 6 ms noalloc spins, each followed by a noalloc call
   of 3 ms that sleeps (spin_sleep) or, the twin, spins under another name (spin_spin),
   then a little OCaml work (where requests are served). *)
let ocaml_work () =
  let n = ref 0 in
  for i = 1 to 10_000 do n := !n + i done;
  ignore (Sys.opaque_identity !n)

let spin_sleep ms () = for _ = 1 to ms / 18 do spin_cpu_noalloc 6; sleep_noalloc 3; ocaml_work () done
let spin_spin ms () = for _ = 1 to ms / 18 do spin_cpu_noalloc 6; spin_again_noalloc 3; ocaml_work () done

(* The twin: the same CPU time spent in OCaml code. *)
let spin_ocaml ms =
  let until = cpu_ns () + ms * 1_000_000 in
  let n = ref 0 in
  while cpu_ns () < until do incr n done;
  ignore (Sys.opaque_identity !n)

(* The twin, holding a Mutex.t: every request is refused (skip_mutex). *)
let spin_locked ms =
  let m = Mutex.create () in
  Mutex.lock m;
  spin_ocaml ms;
  Mutex.unlock m

let spin_c ms = spin_cpu ms

let spin_noalloc ms = spin_cpu_noalloc ms

let () =
  let mode = Sys.argv.(1) and ms = int_of_string Sys.argv.(2) in
  let spinner () =
    match mode with
    | "c" -> spin_c ms
    | "noalloc" -> spin_noalloc ms
    | "mutex" -> spin_locked ms
    | "spin_sleep" | "spin_spin" -> ()
    | _ -> spin_ocaml ms in
  let ticker () = for _ = 1 to 5 do Obs_sched.yield () done in
  (match mode with
   | "spin_sleep" -> Obs_sched.run_fibers [ spin_sleep ms; spin_sleep ms; spin_sleep ms ]
   | "spin_spin" -> Obs_sched.run_fibers [ spin_spin ms; spin_spin ms; spin_spin ms ]
   | _ -> Obs_sched.run_fibers [ ticker; spinner; ticker ]);
  print_endline "c_stall: done"
