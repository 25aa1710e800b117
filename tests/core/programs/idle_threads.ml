(* idle_threads: a program whose threads all sleep costs the monitor about one wake a
   second, however many threads the runtime made beside them.

   Links systhreads (Thread is initialised at start-up, which replaces the runtime's
   blocking-section hooks without chaining the shim's). Modes (argv 1):
   - "systhread": one Thread.t and the main thread each sleep 2 s (Unix.sleepf, a blocking
     section). systhreads' tick thread and the domain's backup thread have records too
     (created with pthread_create) but never run OCaml: their CPU time grows while the
     domain's fiber stays the same, which the monitor took for a long fiber run (waking
     after every tick, ~300 wakes and ~30 requests in 2 s at 100 us).
   - "main": the main thread alone sleeps 2 s (the same without the systhread).
   - "startup": the main thread sleeps 3 s at once, right after systhreads initialised: a
     thread that entered its blocking section before the shim chained its hooks again was
     never parked (a 50 ms back-off: 44-50 wakes).
   - "holding": the "startup" sleep in a C call that keeps the runtime (no blocking
     section): nothing can park the thread, the monitor backs off to 50 ms; the twin that
     shows the runner's wake bound tells parking from back-off.
   The runner bounds the stats' monitor_wakes and requests (counts fixed by the sleeps, the
   same on a loaded machine). *)

external sleep_holding_runtime : float -> unit = "core_sleep_holding_runtime"

let () =
  Tcommon.main "idle_threads" @@ fun () ->
  let mode = if Array.length Sys.argv > 1 then Sys.argv.(1) else "systhread" in
  let slept =
    match mode with
    | "systhread" ->
      let t = Thread.create (fun () -> Unix.sleepf 2.0) () in
      Unix.sleepf 2.0;
      Thread.join t;
      2
    | "main" -> Unix.sleepf 2.0; 2
    | "startup" -> Unix.sleepf 3.0; 3
    | "holding" -> sleep_holding_runtime 3.0; 3
    | m -> Tcommon.fail "unknown mode %S (systhread, main, startup or holding)" m
  in
  Tcommon.result [ ("mode", mode); ("slept_s", Tcommon.i slept) ]
