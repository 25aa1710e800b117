(* Links systhreads: the probe must report "systhreads: yes". *)
let () =
  let t = Thread.create (fun () -> print_endline "thread") () in
  Thread.join t
