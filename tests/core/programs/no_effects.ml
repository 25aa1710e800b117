(* no_effects: a plain program (no effects, no Sched, no fibers besides the main one).

   Its output is deterministic; the runner compares it byte for byte with and without
   the shim, and checks that the shim made no preemption (preemptions=0): with no
   fiber to preempt, the shim must be invisible — no output on stdout, no change in
   behaviour, no crash even though the yield function cannot be found. *)

let () =
  let scale =
    if Array.length Sys.argv > 1 then int_of_string Sys.argv.(1)
    else match Sys.getenv_opt "CORE_SCALE" with Some s when s <> "" -> int_of_string s | _ -> 1
  in
  (* primes: a sieve *)
  let n = 2_000_000 * scale in
  let sieve = Bytes.make (n + 1) '\001' in
  Bytes.set sieve 0 '\000';
  Bytes.set sieve 1 '\000';
  let i = ref 2 in
  while !i * !i <= n do
    if Bytes.get sieve !i = '\001' then begin
      let j = ref (!i * !i) in
      while !j <= n do Bytes.set sieve !j '\000'; j := !j + !i done
    end;
    incr i
  done;
  let count = ref 0 and last = ref 0 in
  Bytes.iteri (fun k c -> if c = '\001' then (incr count; last := k)) sieve;
  Printf.printf "primes below %d: %d, largest %d\n" n !count !last;
  (* pseudo-random ints, sorted *)
  let st = Random.State.make [| 42 |] in
  let a = Array.init (300_000 * scale) (fun _ -> Random.State.bits st) in
  Array.sort compare a;
  Printf.printf "sorted: min %d median %d max %d\n" a.(0) a.(Array.length a / 2)
    a.(Array.length a - 1);
  (* floats *)
  let s = ref 0. in
  for k = 1 to 1_000_000 do s := !s +. (1. /. (float_of_int k ** 2.)) done;
  Printf.printf "sum 1/k^2 = %.17g (pi^2/6 = %.17g)\n" !s (Float.pi *. Float.pi /. 6.);
  (* a map and a hashtable of strings *)
  let module M = Map.Make (String) in
  let m = ref M.empty and h = Hashtbl.create 16 in
  for k = 0 to 99_999 do
    let key = Printf.sprintf "k%05d" ((k * 7919) mod 100_000) in
    m := M.add key k !m;
    Hashtbl.replace h key (k * k)
  done;
  let total = M.fold (fun _ v acc -> acc + v) !m 0 in
  Printf.printf "map: %d bindings, total %d, min %s, max %s\n" (M.cardinal !m) total
    (fst (M.min_binding !m)) (fst (M.max_binding !m));
  Printf.printf "hashtbl: %d, k00042 -> %d\n" (Hashtbl.length h) (Hashtbl.find h "k00042");
  (* a buffer of formatted lines *)
  let b = Buffer.create 1024 in
  for k = 1 to 20 do Printf.bprintf b "line %2d: %08x %10.4f\n" k (k * 0x9E3779B1) (sqrt (float_of_int k)) done;
  print_string (Buffer.contents b);
  Printf.printf "RESULT no_effects primes=%d\n%!" !count
