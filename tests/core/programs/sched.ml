(* Sched: a minimal round-robin scheduler for effect-based fibers.

   This is the "program's own scheduler" that ocpreempt preempts into: the shim is run
   with OCPREEMPT_YIELD=Sched.yield and, when a fiber has used up its quantum, makes it
   call [yield ()] at its next poll/allocation point, exactly as if the source said
   [Sched.yield ()] there.

   Design (kept deliberately simple so that any misbehaviour is the shim's, not ours):
   - All scheduler state is local to one [run] call: a queue of thunks. Several
     schedulers may therefore run at the same time in different domains, or in
     different systhreads of the same domain, without sharing anything but the global
     atomic counters below.
   - Every fiber is started under its own [Effect.Deep.match_with] handler. The
     handler for [Yield] stores the continuation in the queue and *returns*, so the
     [run] loop on the caller's stack stays flat: each thunk returns when its fiber next
     yields or finishes.
   - [fork] and [self] are effects too, so they find the scheduler of the fiber that
     performs them.
   - A fiber that raises lets the exception escape [run] (the test then fails loudly).

   The handler code runs on the stack of the caller of [run] (normally the main fiber,
   which the shim never preempts), so the queue is never touched by preemptible code. *)

type _ Effect.t += Yield : unit Effect.t
type _ Effect.t += Fork : (unit -> unit) -> unit Effect.t
type _ Effect.t += Self : int Effect.t

(* THE yield function: toplevel, unit -> unit, so that it has a static closure the
   shim can find by name. Do not add anything to it: the shim's stats count the calls
   it makes, and [yields_received] must count exactly the same events. *)
let yield () = Effect.perform Yield

(* Yields seen by any scheduler handler (all domains, all threads). *)
let received = Atomic.make 0

(* Yields the program made itself, through [pause]. Preemptions seen by the scheduler
   are [yields_received () - voluntary_yields ()]. *)
let voluntary = Atomic.make 0

(* CPU time of the threads running [run], summed over every call (all domains and
   threads), in ns: the CPU the fibers (and this scheduler) actually got. The tests relate
   preemption counts to it, since on a loaded machine a program gets less CPU in the same
   wall time (thread_cpu.c: CLOCK_THREAD_CPUTIME_ID, the clock the shim's quantum uses). *)
external thread_cpu_ns : unit -> (int[@untagged])
  = "core_thread_cpu_ns_byte" "core_thread_cpu_ns" [@@noalloc]

let fiber_cpu = Atomic.make 0
let fiber_cpu_ns () = Atomic.get fiber_cpu

let yields_received () = Atomic.get received
let voluntary_yields () = Atomic.get voluntary
let preemptions_seen () = yields_received () - voluntary_yields ()

(* A voluntary yield (the test programs' "cooperative" yield points). *)
let pause () =
  Atomic.incr voluntary;
  yield ()

(* Start [f] as a new fiber of the current scheduler. The caller keeps running. *)
let fork f = Effect.perform (Fork f)

(* The id of the calling fiber: 0 for [main], then 1, 2, ... in [fork] order. *)
let self () = Effect.perform Self

(* What to do with a fiber that has just yielded. *)
type action = Continue | Discontinue of exn

(* [on_yield ~fiber ~nth] is called in the scheduler (not in the fiber) for every
   yield: [fiber] is the fiber's id, [nth] counts that fiber's yields from 1. It may
   also be used as an observation hook (e.g. to fail if a yield arrives in a region
   where it must not). *)
let default_policy ~fiber:_ ~nth:_ = Continue

let run ?(on_yield = default_policy) (main : unit -> unit) : unit =
  let ready : (unit -> unit) Queue.t = Queue.create () in
  let next_id = ref 0 in
  let rec spawn (f : unit -> unit) : unit =
    let id = !next_id in
    incr next_id;
    let nth = ref 0 in
    let open Effect.Deep in
    match_with f ()
      { retc = (fun () -> ());
        exnc = raise;
        effc = (fun (type a) (e : a Effect.t) ->
          match e with
          | Yield ->
            Some (fun (k : (a, unit) continuation) ->
              Atomic.incr received;
              incr nth;
              match on_yield ~fiber:id ~nth:!nth with
              | Continue -> Queue.push (fun () -> continue k ()) ready
              | Discontinue exn -> Queue.push (fun () -> discontinue k exn) ready)
          | Fork g ->
            Some (fun (k : (a, unit) continuation) ->
              Queue.push (fun () -> spawn g) ready;
              continue k ())
          | Self -> Some (fun (k : (a, unit) continuation) -> continue k id)
          | _ -> None) }
  in
  Queue.push (fun () -> spawn main) ready;
  let cpu_start = thread_cpu_ns () in
  Fun.protect
    ~finally:(fun () -> ignore (Atomic.fetch_and_add fiber_cpu (thread_cpu_ns () - cpu_start)))
    (fun () ->
      while not (Queue.is_empty ready) do
        (Queue.pop ready) ()
      done)
