(* Uses the stand-in Eio.Fiber.yield from a loop with allocations. *)
let () =
  let l = ref [] in
  for i = 1 to 10_000 do
    l := i :: !l;
    if i mod 100 = 0 then Eio__Fiber.yield ()
  done;
  Printf.printf "%d %d\n" (List.length !l) !Eio__Fiber.yields
