(* A small effect-based round-robin scheduler with a toplevel [yield]: the kind of program
   ocpreempt targets. The probe test resolves Sched_demo.yield in it. *)
type _ Effect.t += Yield : unit Effect.t

let yield () = Effect.perform Yield

let run (tasks : (unit -> unit) list) =
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

let busy name n () =
  let acc = ref [] in
  for i = 1 to n do
    acc := (name, i) :: !acc;            (* allocation sites *)
    if i mod 1000 = 0 then yield ()
  done;
  Printf.printf "%s %d\n" name (List.length !acc)

let () = run [ busy "a" 5000; busy "b" 5000 ]
