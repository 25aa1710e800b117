(* io_wakes: a main fiber that leaves blocking sections thousands of times a second costs
   the monitor about one wake per quantum, not one per system call.

   The main fiber (never preempted: the monitor backs off on it, and parks the thread when
   it finds it inside a system call) makes one-byte round trips through a pipe, each write
   and read a blocking section, for 0.5 s of wall time. Each leave of a backed-off or parked
   thread wakes the monitor; before that look was due a quantum after the previous one, the
   monitor looked at once, found the thread backed off again (or in the next system call,
   parked again), and the next leave woke it again: thousands of wakes a second at any
   quantum (50,445 in 0.7 s at 10 ms). The runner bounds the stats' monitor_wakes. *)

let () =
  Tcommon.main "io_wakes" @@ fun () ->
  let r, w = Unix.pipe () in
  let b = Bytes.create 1 in
  let t0 = Tcommon.now () and trips = ref 0 in
  while Tcommon.now () -. t0 < 0.5 do
    for _ = 1 to 100 do
      if Unix.write w b 0 1 <> 1 || Unix.read r b 0 1 <> 1 then Tcommon.fail "short pipe I/O"
    done;
    trips := !trips + 100
  done;
  Tcommon.result
    [ ("trips", Tcommon.i !trips); ("wall_ms", Tcommon.ms (Tcommon.now () -. t0)) ]
