(* Start-up benchmark subject: prints the wall-clock time at which main started.
   [yield] exists only so that the shim has a function to bind to
   (OCPREEMPT_YIELD=Bench_hello.yield) and goes through its whole start-up. *)
let yield () = ignore (Sys.opaque_identity 0)

let () = Printf.printf "%.6f\n" (Unix.gettimeofday ())
