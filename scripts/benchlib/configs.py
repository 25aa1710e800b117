"""The benchmark's vocabulary: work sizes, the quanta, the named configurations (no shim,
disabled, loaded never due, cooperative, monitor at each quantum, chaos) and the
OCPREEMPT_* variables each one sets, the sections of the suite. Used by the workloads
that run them and by the report that reads their results by these names.
"""

# Work sizes. Full: the overhead section's runs >= 2 s of CPU each (a few ms of start-up is
# then a fraction of a percent): overhead_work scaled on this machine to overhead_cpu_s of
# CPU without the shim (Suite.overhead_sizes; None: as given), within their own budget (OVERHEAD_BUDGET);
# the other sections' runs of the same workloads (work: sites, chaos) ~0.2-0.5 s, the
# request stream 3 s; the whole suite under 25 minutes on 2 cores. Quick: a smoke test.
SIZES = {
    "full": dict(fibers=4,
                 overhead_work={"int": 1_300_000_000, "alloc": 2_100_000_000,
                                "float": 1_650_000_000, "gc": 135_000},
                 overhead_min_rounds=5, overhead_cpu_s=2.3,
                 work={"int": 300_000_000, "alloc": 250_000_000, "float": 120_000_000,
                       "gc": 19_000},
                 yields=1_000_000, ticker_iters=300_000_000,
                 req=dict(duration=3.0, n_short=1500, n_long=5, short_us=100, long_ms=100),
                 startup_reps=5, runs=9, idle_s=0.5, floor_s=1.0),
    "quick": dict(fibers=4,
                  overhead_work={"int": 6_000_000, "alloc": 5_000_000, "float": 2_500_000,
                                 "gc": 400},
                  overhead_min_rounds=2, overhead_cpu_s=None,
                  work={"int": 6_000_000, "alloc": 5_000_000, "float": 2_500_000,
                        "gc": 400},
                  yields=20_000, ticker_iters=10_000_000,
                  req=dict(duration=0.3, n_short=150, n_long=2, short_us=100, long_ms=30),
                  startup_reps=1, runs=2, idle_s=0.05, floor_s=0.05),
}

QUANTA = ["10ms", "1ms", "100us"]
QUANTUM_NS = {"10ms": 10_000_000, "1ms": 1_000_000, "100us": 100_000}
# The overhead workloads whose fibers allocate, so can clock themselves (int and float
# loops do not: the monitor keeps its cadence for them).
ALLOCATING_WORKLOADS = ("alloc", "gc")
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

# The overhead section's own budget (minutes; --overhead-budget): after its minimum rounds
# it adds rounds, for the ratios whose target is still unresolved only, until each is
# resolved or the budget is spent.
OVERHEAD_BUDGET_MIN = {"full": 15.0, "quick": 0.5}
OVERHEAD_MAX_ROUNDS = 200
# The targets on the overhead section's CPU ratios (docs/benchmarks.md), as ratios.
OVERHEAD_TARGET = {"10ms": 1.01, "1ms": 1.02, "100us": 1.05}
COOP_OVER_TARGET = {"1ms": 1.03, "100us": 1.10}   # gc workload, shim / cooperative


def overhead_items(workloads):
    """The overhead section's ratios that carry a target: (workload, configuration, its
    baseline configuration in the same round, target ratio). The section adds rounds until
    each is resolved; the report states each one met, missed or unresolved."""
    items = []
    for w in workloads:
        for q in QUANTA:
            items.append((w, f"monitor {q}", "no shim", OVERHEAD_TARGET[q]))
            items.append((w, f"monitor {q}", LOADED, OVERHEAD_TARGET[q]))
        if w == "gc":
            for q, t in COOP_OVER_TARGET.items():
                items.append((w, f"monitor {q}", f"cooperative {q}", t))
    return items


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
