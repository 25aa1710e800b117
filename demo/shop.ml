(* The chaos-mode demo: a shop with a real ordering bug that cooperative scheduling hides.

   Four customer fibers buy from two items' stock; a fifth fiber computes a sales report
   and never yields. [sell] reads an item's stock, builds the receipt (an allocation, and a
   loop computing the discount: safe points), then writes the stock back. On a cooperative
   scheduler nothing runs between that read and that write, so the program is right, and
   it stays right under ocpreempt's normal mode: a customer yields after every sale, long
   before a quantum is used up, so the timer preempts only the report (hundreds of times
   per run). A preemption between the read and the write loses a sale: another customer
   sells the same item meanwhile and one of the two writes is lost. Chaos mode preempts at
   seeded allocation-clock points whatever the quantum, and finds it:

     build/demo/shop                                          # always "stock consistent"
     scripts/ocpreempt run --quantum 100us -- build/demo/shop # the same
     scripts/ocpreempt stress --runs 50 -- build/demo/shop    # fails, prints the seed

   Arguments: [sales per customer (default 200)] [report iterations (default 60M)]. *)

open Effect
open Effect.Shallow

type _ Effect.t += Yield : unit Effect.t

(* The scheduler's yield: toplevel, unit -> unit. ocpreempt calls it for us. *)
let yield () = perform Yield

(* Round robin over shallow continuations: a fiber runs until it yields or returns. *)
let run fibers =
  let ready = Queue.create () in
  List.iter (fun f -> Queue.push (fiber f) ready) fibers;
  let rec next () =
    match Queue.take_opt ready with
    | None -> ()
    | Some k ->
        continue_with k ()
          { retc = next;
            exnc = raise;
            effc = (fun (type a) (e : a Effect.t) ->
              match e with
              | Yield -> Some (fun (k : (a, unit) continuation) -> Queue.push k ready; next ())
              | _ -> None) } in
  next ()

let initial_stock = 1_000_000
let stock = [| initial_stock; initial_stock |]

type order = { customer : int; item : int; quantity : int }
type receipt = { order : order; price : int; stock_left : int }

let price_of item = 100 + 7 * item

(* The bug: [available] is read, then the receipt is built (safe points: the discount loop
   polls, the record allocates), then the stock is written from the stale [available]. *)
let sell order =
  let available = stock.(order.item) in
  let discount = ref 0 in
  for k = 1 to 1 + (order.customer land 3) do
    discount := (!discount * 31 + k * order.item) land 15
  done;
  let receipt =
    { order; price = price_of order.item - !discount; stock_left = available - order.quantity } in
  stock.(order.item) <- available - order.quantity;
  receipt

let customer id sales sold =
  let receipts = ref [] in
  for n = 1 to sales do
    let order = { customer = id; item = (id * 7 + n * 3) land 1; quantity = 1 } in
    receipts := sell order :: !receipts;
    sold.(order.item) <- sold.(order.item) + order.quantity;
    yield ()
  done;
  List.length !receipts

(* A CPU-bound fiber that never yields: normal mode preempts it every quantum. *)
let report iterations =
  let acc = ref 0 in
  for i = 1 to iterations do acc := (!acc * 31 + i) land 0xFFFFFF done;
  !acc

let () =
  let sales = if Array.length Sys.argv > 1 then int_of_string Sys.argv.(1) else 200 in
  let iterations =
    if Array.length Sys.argv > 2 then int_of_string Sys.argv.(2) else 60_000_000 in
  let customers = 4 in
  let sold = Array.init customers (fun _ -> [| 0; 0 |]) in
  let checksum = ref 0 in
  run ((fun () -> checksum := report iterations)
       :: List.init customers (fun id () -> ignore (customer id sales sold.(id))));
  let ok = ref true in
  Array.iteri (fun item left ->
      let total = Array.fold_left (fun acc s -> acc + s.(item)) 0 sold in
      if left + total <> initial_stock then begin
        ok := false;
        Printf.printf "shop: BUG: item %d: stock %d + sold %d = %d, expected %d (%d lost \
                       update%s)\n"
          item left total (left + total) initial_stock (left + total - initial_stock)
          (if left + total - initial_stock = 1 then "" else "s")
      end)
    stock;
  if !ok then
    Printf.printf "shop: %d sales, stock consistent (report %d)\n" (customers * sales)
      !checksum
  else exit 1
