(* hog_sites: known hog loops at known source lines, on two domains, each domain with its
   own small scheduler. The observability tests check that ocpreempt's report names these
   lines (the markers below are how the tests find them, so keep each marker on its loop's
   line) and that stats, trace and per-domain figures agree with each other. *)

open Effect
open Effect.Deep

type _ Effect.t += Yield : unit Effect.t

let yield () = perform Yield

(* One scheduler per call: its queue is local, so domains never share it. *)
let run_fibers (fibers : (unit -> unit) list) =
  let ready : (unit -> unit) Queue.t = Queue.create () in
  let spawn f =
    Queue.push (fun () ->
        match_with f ()
          { retc = (fun () -> ());
            exnc = raise;
            effc = (fun (type a) (e : a Effect.t) ->
              match e with
              | Yield -> Some (fun (k : (a, unit) continuation) ->
                  Queue.push (fun () -> continue k ()) ready)
              | _ -> None) }) ready in
  List.iter spawn fibers;
  while not (Queue.is_empty ready) do (Queue.pop ready) () done

let poll_hog n () =
  let x = ref 0 in
  for i = 1 to n do x := (!x * 13 + i) land 0xFFFFF done; (* HOG-LOOP *)
  Sys.opaque_identity !x |> ignore

let alloc_hog n () =
  let acc = ref [] in
  for i = 1 to n do acc := (i, i + 1) :: (if i land 1023 = 0 then [] else !acc) done; (* ALLOC-LOOP *)
  Sys.opaque_identity !acc |> ignore

let domain_work scale () =
  run_fibers [ poll_hog (150_000_000 * scale); alloc_hog (15_000_000 * scale) ]

let () =
  let scale = try int_of_string Sys.argv.(1) with _ -> 1 in
  let d = Domain.spawn (domain_work scale) in
  domain_work scale ();
  Domain.join d;
  print_endline "hog_sites: done"
