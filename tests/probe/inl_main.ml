(* inl_main: a loop calling Inl_sched's inlined functions (the probe_landing_inlined tests). *)
type _ Effect.t += Yield : unit Effect.t

let yield () = Effect.perform Yield

let () =
  for i = 1 to 10 * Array.length Sys.argv do
    Inl_sched.push i;
    Inl_sched.critical i
  done;
  print_int (List.length !Inl_sched.log)
