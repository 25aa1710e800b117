(* Uses every yield of the stand-in wrapped unit so none is dropped. *)
let () =
  Mylib__core__Sched.yield ();
  Mylib__core__Sched.Event.yield 3;
  Mylib__core__Sched.Inner.yield ();
  print_int !Mylib__core__Sched.count
