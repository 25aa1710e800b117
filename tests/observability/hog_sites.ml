(* hog_sites: known hog loops at known source lines, on two domains, each domain with its
   own small scheduler. The observability tests check that ocpreempt's report names these
   lines (the markers below are how the tests find them, so keep each marker on its loop's
   line) and that stats, trace and per-domain figures agree with each other. The
   scheduler is Obs_sched's (one queue per domain). *)

let poll_hog n () =
  let x = ref 0 in
  for i = 1 to n do x := (!x * 13 + i) land 0xFFFFF done; (* HOG-LOOP *)
  Sys.opaque_identity !x |> ignore

let alloc_hog n () =
  let acc = ref [] in
  for i = 1 to n do acc := (i, i + 1) :: (if i land 1023 = 0 then [] else !acc) done; (* ALLOC-LOOP *)
  Sys.opaque_identity !acc |> ignore

let domain_work scale () =
  Obs_sched.run_fibers [ poll_hog (150_000_000 * scale); alloc_hog (15_000_000 * scale) ]

let () =
  let scale = try int_of_string Sys.argv.(1) with _ -> 1 in
  let d = Domain.spawn (domain_work scale) in
  domain_work scale ();
  Domain.join d;
  print_endline "hog_sites: done"
