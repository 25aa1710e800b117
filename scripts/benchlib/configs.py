"""The benchmark's vocabulary: work sizes, the quanta, the named configurations (no shim,
disabled, loaded never due, cooperative, monitor at each quantum, chaos) and the
OCPREEMPT_* variables each one sets, the sections of the suite. Used by the workloads
that run them and by the report that reads their results by these names.
"""

# Work sizes. Full: each overhead run ~0.6 s, the request stream 3 s; the whole suite with
# the default 9 rounds take about 10 minutes on 2 cores. Quick: a smoke test of everything.
SIZES = {
    "full": dict(fibers=4,
                 work={"int": 300_000_000, "alloc": 250_000_000, "float": 120_000_000,
                       "gc": 19_000},
                 yields=1_000_000, ticker_iters=300_000_000,
                 req=dict(duration=3.0, n_short=1500, n_long=5, short_us=100, long_ms=100),
                 startup_reps=5, runs=9, idle_s=0.5, floor_s=1.0),
    "quick": dict(fibers=4,
                  work={"int": 6_000_000, "alloc": 5_000_000, "float": 2_500_000,
                        "gc": 400},
                  yields=20_000, ticker_iters=10_000_000,
                  req=dict(duration=0.3, n_short=150, n_long=2, short_us=100, long_ms=30),
                  startup_reps=1, runs=2, idle_s=0.05, floor_s=0.05),
}

QUANTA = ["10ms", "1ms", "100us"]
QUANTUM_NS = {"10ms": 10_000_000, "1ms": 1_000_000, "100us": 100_000}
# The request path: "monitor" is the default, the monitor alone waking about once per
# quantum (OCPREEMPT_SELF_CLOCK=0); "self-clocked" is the opt-in where allocating fibers
# clock themselves and the monitor backs off (OCPREEMPT_SELF_CLOCK=1), run beside it so
# that the rows compare in one run.
PATHS = ["monitor", "self-clocked"]
ACTIVE = [f"{p} {q}" for p in PATHS for q in QUANTA]        # "monitor 10ms", ...
# The shim active (engine loaded, program analysed, monitor running) with a quantum no run
# reaches: the baseline that separates the preemption mechanism's cost from the fixed
# start-up cost (its own table) in the overhead runs, which last a fraction of a second.
LOADED = "loaded, never due"
DECISION_DEPTHS = [10, 1000, 100_000]
SITE_POLICIES = ["poll", "loop", "all"]
CHAOS_RATES = ["64", "1024"]          # the default rate, and a dense one
CHAOS_DEFAULT_RATE = "64"
# The alloc workload runs with a 1 MB minor heap: with the default 2 MB (the size of this
# machine's L2) its run time is bimodal (about 0.48 or 0.65 s) depending on the address-space
# layout of the run, which would swamp the shim's effect.
WORKLOAD_ENV = {"alloc": {"OCAMLRUNPARAM": "s=128k"}}
COOP = "cooperative 100us"   # no shim; each fiber yields after running 100 us
COOP_US = 100
COOPS = {COOP: COOP_US, "cooperative 1ms": 1000}   # the same at each rate compared with
SECTIONS = ["overhead", "fairness", "requests", "cost", "startup", "floor", "decision", "sites",
            "chaos", "switchlog"]


def shim_config(name, yield_fn="Sched.yield", stats=True):
    if name == "no shim" or name in COOPS:
        return None
    if name == "disabled":
        return {"OCPREEMPT_DISABLE": "1"}
    if name == LOADED:
        c = {"OCPREEMPT_QUANTUM": "10s", "OCPREEMPT_YIELD": yield_fn}
        if stats:
            c["OCPREEMPT_STATS"] = "1"
        return c
    path, q = name.split()
    c = {"OCPREEMPT_QUANTUM": q, "OCPREEMPT_YIELD": yield_fn}
    if path == "self-clocked":
        c["OCPREEMPT_SELF_CLOCK"] = "1"
    if stats:
        c["OCPREEMPT_STATS"] = "1"
    return c


def chaos_config(rate, seed):
    return {"OCPREEMPT_CHAOS": str(seed), "OCPREEMPT_CHAOS_RATE": rate,
            "OCPREEMPT_YIELD": "Sched.yield", "OCPREEMPT_STATS": "1"}
