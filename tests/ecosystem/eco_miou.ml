(* eco_miou: Miou (after 0.7.0, and 0.5.5: the same source builds against both) under
   preemption. Cases:
   fair         a hog and a ticker (Miou.yield) as two Miou.async tasks: turns_during_hog,
                worst_gap_ms
   cancel       Miou.cancel of a preempted hog (3 s of work) after 5 turns of the main
                task: the promise must end Cancelled, well before 3 s
   sync         Miou.Mutex around a read-modify-write that spins (preempted inside), and a
                bounded buffer (Miou.Queue + Miou.Mutex + Miou.Condition) between a
                producer and a consumer: exact counter and sum
   sync_nolock  the counter without the mutex: lost updates (reported, not checked)
   domains      two Miou.call tasks, each a hog (1.2 s) + ticker on its own domain
   mutex_inline [tasks] tasks contending for one Miou.Mutex with explicit lock/unlock,
                which Miou marks [@inline]: their code (an effect, an allocation, a
                handler) is compiled into this program's own function. The program
                checks mutual exclusion (one task inside at a time) and the exact
                count; the ecosystem test also requires, from the trace, that no
                preemption landed at a site whose debuginfo names Miou (inlined
                scheduler code is scheduler code): overlaps=0, counter *)

open Eco_common

let hog_and_ticker seconds =
  let p = new_pair () in
  let t = Miou.async (ticker_fiber p ~yield:Miou.yield) in
  let h = Miou.async (hog_fiber p seconds) in (* FIBER-MIOU-HOG *)
  Miou.await_exn h;
  Miou.await_exn t;
  p

let fair () =
  Miou.run @@ fun () -> result (pair_result (hog_and_ticker 0.6))

let cancel () =
  Miou.run @@ fun () ->
  let t0 = now () and ended = ref 0 in
  let h = Miou.async (fun () -> watched_hog ended 3.0) in
  for _ = 1 to 5 do Miou.yield () done;
  Miou.cancel h;
  let cancelled = match Miou.await h with Error Miou.Cancelled -> 1 | _ -> 0 in
  result [ ("cancelled", i cancelled); ("hog_cancelled", i (if !ended = 2 then 1 else 0));
           ("elapsed_ms", ms (now () -. t0)) ]

let tasks = 4
let increments = 40

let counter ~locked =
  let m = Miou.Mutex.create () and c = ref 0 in
  let bump () = let v = !c in spin 500.; c := v + 1 in
  let work () =
    for _ = 1 to increments do if locked then Miou.Mutex.protect m bump else bump () done
  in
  List.iter Miou.await_exn (List.init tasks (fun _ -> Miou.async work));
  !c

let items = 3000
let capacity = 8

let buffer_sum () =
  let q = Miou.Queue.create () and m = Miou.Mutex.create () in
  let not_full = Miou.Condition.create () and not_empty = Miou.Condition.create () in
  let put k =
    Miou.Mutex.protect m (fun () ->
        while Miou.Queue.length q >= capacity do Miou.Condition.wait not_full m done;
        Miou.Queue.enqueue q k;
        Miou.Condition.signal not_empty)
  in
  let take () =
    Miou.Mutex.protect m (fun () ->
        while Miou.Queue.is_empty q do Miou.Condition.wait not_empty m done;
        let k = Miou.Queue.dequeue q in
        Miou.Condition.signal not_full;
        k)
  in
  let producer = Miou.async (fun () -> for k = 1 to items do spin 20.; put k done; put 0) in
  let consumer =
    Miou.async (fun () ->
        let rec loop count total =
          match take () with 0 -> (count, total) | k -> spin 20.; loop (count + 1) (total + k)
        in
        loop 0 0)
  in
  Miou.await_exn producer;
  Miou.await_exn consumer

let sync () =
  Miou.run @@ fun () ->
  let c = counter ~locked:true in
  report_sync ~counter:c ~expected:(tasks * increments) ~items (buffer_sum ())

let sync_nolock () =
  Miou.run @@ fun () ->
  let c = counter ~locked:false in
  result [ ("counter", i c); ("lost", i (tasks * increments - c)) ]

let domains () =
  Miou.run ~domains:2 @@ fun () ->
  let a = Miou.call (fun () -> hog_and_ticker 1.2) in
  let b = Miou.call (fun () -> hog_and_ticker 1.2) in
  let a = Miou.await_exn a and b = Miou.await_exn b in
  result (pair_result ~suffix:"_d1" a @ pair_result ~suffix:"_d2" b)

let contenders = 4
let acquisitions = 20_000

let mutex_inline () =
  Miou.run @@ fun () ->
  let m = Miou.Mutex.create () in
  let inside = ref 0 and overlaps = ref 0 and c = ref 0 and trail = ref [] in
  let work () =
    for k = 1 to acquisitions do
      Miou.Mutex.lock m;
      incr inside;
      if !inside <> 1 then incr overlaps;
      let v = !c in
      (* allocates inside the critical section: a chaos clock tick may fall here *)
      trail := [ k; v ];
      c := v + 1;
      decr inside;
      Miou.Mutex.unlock m
    done
  in
  List.iter Miou.await_exn (List.init contenders (fun _ -> Miou.async work));
  ignore (Sys.opaque_identity !trail);
  if !overlaps <> 0 then fail "%d acquisitions found another task inside" !overlaps;
  if !c <> contenders * acquisitions then
    fail "counter %d, expected %d" !c (contenders * acquisitions);
  result [ ("overlaps", i !overlaps); ("counter", i !c) ]

let () =
  main "eco_miou"
    [ ("fair", fair); ("cancel", cancel); ("sync", sync); ("sync_nolock", sync_nolock);
      ("domains", domains); ("mutex_inline", mutex_inline) ]
