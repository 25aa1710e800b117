(* The subject of the hardening tests and a seed of the fuzz drivers: a small effect
   scheduler with a toplevel [yield] (OCPREEMPT_YIELD=Hardening_subject.yield), fibers
   that allocate and poll, and [never_called], whose allocation sites never run: the tests
   corrupt its frame descriptors, which the program alone never looks at, so a doctored
   copy still runs normally without the shim. Prints "hardening_subject ok <sum>". *)
type _ Effect.t += Yield : unit Effect.t

let yield () = Effect.perform Yield

let rec never_called n acc = if n = 0 then acc else never_called (n - 1) ((n, n) :: acc)

let run tasks =
  let queue = Queue.create () in
  let spawn f =
    Queue.push
      (fun () ->
        Effect.Deep.match_with f ()
          { retc = (fun () -> ());
            exnc = raise;
            effc = (fun (type a) (e : a Effect.t) ->
              match e with
              | Yield -> Some (fun (k : (a, unit) Effect.Deep.continuation) ->
                  Queue.push (fun () -> Effect.Deep.continue k ()) queue)
              | _ -> None) })
      queue
  in
  List.iter spawn tasks;
  while not (Queue.is_empty queue) do (Queue.pop queue) () done

let total = ref 0

let work n () =
  let acc = ref [] in
  for i = 1 to n do
    acc := (i, i * i) :: !acc;
    if i mod 1000 = 0 then (acc := []; yield ())
  done;
  total := !total + n

let () =
  if Array.length Sys.argv > 99 then ignore (never_called 3 []);
  run [ work 20_000_000; work 20_000_000; work 10_000_000 ];
  Printf.printf "hardening_subject ok %d\n" !total
