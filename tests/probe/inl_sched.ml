(* Inl_sched: small [@inline] functions, copied by ocamlopt into inl_main's code: its
   allocation sites there carry Inl_sched on their debuginfo's inlining chain. *)
let log : int list ref = ref []
let[@inline] push x = log := x :: !log
let[@inline] critical x = log := (x + 1) :: !log
