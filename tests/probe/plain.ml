(* A plain program with no effects, for OCaml 4.13 and bytecode compilers. *)
let rec build n acc = if n = 0 then acc else build (n - 1) (n :: acc)
let () = Printf.printf "%d\n" (List.length (build 1000 []))
