"""The benchmarks themselves: each section runs its configurations interleaved round by
round (A B C A B C ...) and stores what raw.json keeps of every run in Suite.data, under
the names the report reads. It keeps runs, not figures: apart from the traced runs'
distributions (summarize_dist), every figure is computed by the report from this data.
"""
import os
import shutil
import subprocess
import tempfile
import time

from benchlib.common import OCAMLOPT, ROOT, TIME_PROGRAM, log
from benchlib.configs import (ACTIVE, CHAOS_RATES, COOPS, DECISION_DEPTHS, LOADED,
                              OVERHEAD_BUDGET_MIN, OVERHEAD_MAX_ROUNDS, QUANTA, QUANTUM_NS,
                              SITE_POLICIES, SIZES, WORKLOAD_ENV, chaos_config, overhead_items,
                              shim_config)
from benchlib.runner import Runner, read_trace_latencies, slim
from benchlib.stats import paired, resolution, summarize_dist, verdict


class Suite:
    def __init__(self, args, lib, bindir, outdir, workdir):
        self.args = args
        self.size = SIZES["quick" if args.quick else "full"]
        self.runs = args.runs or self.size["runs"]
        mode = "quick" if args.quick else "full"
        self.overhead_budget_min = (OVERHEAD_BUDGET_MIN[mode] if args.overhead_budget is None
                                    else args.overhead_budget)
        self.fib = os.path.join(bindir, "bench_fib")
        self.thr = os.path.join(bindir, "bench_thr")
        self.hello = os.path.join(bindir, "bench_hello")
        self.deep = os.path.join(bindir, "bench_deep")
        self.outdir = outdir
        self.workdir = workdir
        self.runner = Runner(lib, workdir)
        # The shim's analysis cache (on by default) lives in the work folder, never in the
        # user's ~/.cache; the start-up section compares it cold and warm.
        self.analysis_cache = os.path.join(workdir, "analysis-cache")
        self.runner.base_env["OCPREEMPT_ANALYSIS_CACHE"] = self.analysis_cache
        # An Eio program of the ecosystem tests (built by ctest -L ecosystem), started with
        # no case: it links Eio, starts the runtime and exits at once (status 1).
        self.eio = os.path.join(args.build, "tests", "ecosystem", "schedulers", "eco_eio")
        self.data = {}

    def run(self, *a, **kw):
        return self.runner.run(*a, **kw)

    # -- 1, 2, 4: overhead (and the latency of the same runs, and the yield cost) ----------
    # Its own budget, which no round overruns (but the first): the minimum rounds run every
    # configuration (and the idle, yield and floor runs); then rounds are added, each running only what the ratios still unresolved
    # need (their configuration and its baseline, plus no shim), until every ratio that
    # carries a target is resolved (stats.verdict) or the next round would overrun the
    # budget. Every run keeps its round number: the report pairs runs on it.
    def overhead_sizes(self):
        """overhead_work scaled so that each workload takes overhead_cpu_s of CPU without the
        shim on this machine (the nominal sizes differ by 2x from one host to another), from
        one run at an eighth of the nominal size; two significant digits."""
        want = self.size["overhead_cpu_s"]
        work = dict(self.size["overhead_work"])
        if not want:
            return work
        for w, n in work.items():
            probe = max(1, n // 8)
            x = self.run([self.fib, "overhead", w, str(probe), str(self.size["fibers"])], None,
                         extra_env=WORKLOAD_ENV.get(w))
            scaled = probe * want / max(x["cpu"], 1e-3)
            digits = max(0, len(str(int(scaled))) - 2)
            work[w] = max(1, int(round(scaled, -digits)))
        log("overhead: sizes for ~%gs of CPU each: %s" % (want, ", ".join(f"{w} {n}" for w, n in work.items())))
        return work

    def overhead(self):
        configs = ["no shim", "disabled", LOADED] + list(COOPS) + ACTIVE
        fibers = self.size["fibers"]
        t0 = time.monotonic()
        work = self.overhead_sizes()
        items = overhead_items(list(work))
        min_rounds = self.args.runs or self.size["overhead_min_rounds"]
        budget_s = self.overhead_budget_min * 60
        res = {w: {c: [] for c in configs} for w in work}
        idle = {c: [] for c in ["no shim"] + ACTIVE}
        floor = {q: [] for q in QUANTA}
        floor_exe = self.floor_program()
        yields = []
        took = {}                 # (workload, configuration) -> seconds of its last run

        def one(w, c, r):
            argv = [self.fib, "overhead", w, str(work[w]), str(fibers)]
            if c in COOPS:
                argv.append(str(COOPS[c]))
            t = time.monotonic()
            x = self.run(argv, shim_config(c), expect_stats=c in ACTIVE + [LOADED],
                         extra_env=WORKLOAD_ENV.get(w))
            took[(w, c)] = time.monotonic() - t
            res[w][c].append(dict(slim(x), round=r))

        def still_needed():
            need = {}
            for w, c, base, target in items:
                ratios = paired(res[w][c], res[w][base], lambda a, b: a["cpu"] / b["cpu"])
                if verdict(resolution(ratios), target) == "unresolved":
                    need.setdefault(w, {"no shim"}).update((c, base))
            return {w: [c for c in configs if c in cs] for w, cs in need.items()}

        r, stopped = 0, "rounds"
        while r < OVERHEAD_MAX_ROUNDS:
            if r < min_rounds:
                need = {w: configs for w in work}
                guess = sum(took.get((w, c), 0) for w in work for c in configs)
                if r > 0 and time.monotonic() - t0 + guess > budget_s:
                    stopped = "budget"            # a loaded machine: fewer rounds, said so
                    break
            else:
                need = still_needed()
                if not need:
                    stopped = "resolved"
                    break
                guess = sum(took.get((w, c), 0) for w, cs in need.items() for c in cs)
                if time.monotonic() - t0 + guess > budget_s:
                    stopped = "budget"
                    break
            log(f"overhead: round {r + 1} ({'minimum ' + str(min_rounds) if r < min_rounds else 'added: ' + ', '.join(need)}; "
                f"{(time.monotonic() - t0) / 60:.1f} of {self.overhead_budget_min:g} min)")
            for w, cs in need.items():
                for c in (cs if r % 2 == 0 else list(reversed(cs))):   # drift cancels out
                    one(w, c, r)
            if r < min_rounds:
                y = self.run([self.fib, "yield", str(fibers), str(self.size["yields"])], None)
                yields.append(slim(y))
                for c in idle:
                    x = self.run([self.fib, "idle", str(self.size["idle_s"])], shim_config(c),
                                 expect_stats=c in ACTIVE)
                    idle[c].append(slim(x))
                if floor_exe:
                    for q in QUANTA:
                        x = self.run([floor_exe, str(QUANTUM_NS[q]), str(self.size["floor_s"])], None)
                        floor[q].append(dict(slim(x), round=r))
            r += 1
        self.data["overhead"] = res
        self.data["yield"] = yields
        self.data["idle"] = idle
        if floor_exe:
            self.data["overhead_floor"] = floor
        self.data["overhead_meta"] = {"min_rounds": min_rounds, "rounds": r, "stopped": stopped,
                                      "sizes": work,
                                      "budget_min": self.overhead_budget_min,
                                      "spent_min": (time.monotonic() - t0) / 60}

    # -- the switch trampoline: counting, and logging for per-fiber accounting ------------
    SWITCHLOG_CONFIGS = {"no shim": None,
                         "counted": {"OCPREEMPT_QUANTUM": "10s", "OCPREEMPT_YIELD": "Sched.yield"},
                         "logged": {"OCPREEMPT_QUANTUM": "10s", "OCPREEMPT_YIELD": "Sched.yield",
                                    "OCPREEMPT_STATS": "1"}}

    def switchlog(self):
        fibers = self.size["fibers"]
        res = {c: [] for c in self.SWITCHLOG_CONFIGS}
        empty = {c: [] for c in self.SWITCHLOG_CONFIGS}     # the same process, no yield:
        for r in range(self.runs):                           # its start-up and exit CPU
            log(f"switchlog: round {r + 1}/{self.runs}")
            for c, cfg in self.SWITCHLOG_CONFIGS.items():
                for count, into in ((self.size["yields"], res), (0, empty)):
                    x = self.run([self.fib, "yield", str(fibers), str(count)], cfg,
                                 expect_stats=c == "logged")
                    into[c].append(slim(x))
        self.data["switchlog"] = res
        self.data["switchlog_empty"] = empty

    # -- 3a: hog + ticker ---------------------------------------------------------------
    def fairness(self):
        configs = ["no shim"] + ACTIVE
        it = str(self.size["ticker_iters"])
        res = {c: [] for c in configs}
        for r in range(self.runs):
            log(f"fairness: round {r + 1}/{self.runs}")
            for c in configs:
                x = self.run([self.fib, "ticker", it], shim_config(c), expect_stats=c in ACTIVE)
                res[c].append(slim(x))
        self.data["ticker"] = res
        self.domains()
        # One traced run per configuration: per-preemption latencies for the plot and the
        # ticker's gaps for the wall-clock cross-check.
        traced = {}
        log("fairness: traced runs")
        for c in ACTIVE:
            tag = c.replace(" ", "-")
            trace = os.path.join(self.outdir, f"trace-{tag}.tsv")
            gaps = os.path.join(self.outdir, f"gaps-{tag}.txt")
            for f in (trace, gaps):
                if os.path.exists(f):
                    os.unlink(f)
            cfg = shim_config(c)
            cfg["OCPREEMPT_TRACE"] = trace
            x = self.run([self.fib, "ticker", it, gaps], cfg, expect_stats=True)
            lat = read_trace_latencies(trace)
            g = sorted(float(l) for l in open(gaps) if l.strip())
            traced[c] = {"run": slim(x), "trace": os.path.basename(trace),
                         "gaps": os.path.basename(gaps), "latencies_ns": summarize_dist(lat),
                         "gaps_us": summarize_dist(g)}
        self.data["traced"] = traced

    # -- the physical floor: a bare C thread waking once per quantum -----------------
    def floor_program(self):
        """bench/floor.c built into the work directory (once); None without a C compiler."""
        exe = os.path.join(self.workdir, "floor")
        if os.path.exists(exe):
            return exe
        src = os.path.join(ROOT, "bench", "floor.c")
        cc = shutil.which(os.environ.get("CC", "cc"))
        if not cc or subprocess.run([cc, "-O2", "-o", exe, src]).returncode != 0:
            log("floor: no C compiler: the floor rows are left out")
            return None
        return exe

    def floor(self):
        exe = self.floor_program()
        if not exe:
            return
        res = {q: [] for q in QUANTA}
        for r in range(self.runs):
            log(f"floor: round {r + 1}/{self.runs}")
            for q in QUANTA:
                x = self.run([exe, str(QUANTUM_NS[q]), str(self.size["floor_s"])], None)
                res[q].append(slim(x))
        self.data["floor"] = res

    # -- two domains, each a hog beside a ticker -------------------------------------------
    def domains(self):
        configs = ["no shim"] + ACTIVE
        it = str(self.size["ticker_iters"])
        res = {c: [] for c in configs}
        for r in range(self.runs):
            log(f"domains: round {r + 1}/{self.runs}")
            for c in configs:
                x = self.run([self.fib, "domains", it], shim_config(c), expect_stats=c in ACTIVE)
                res[c].append(slim(x))
        self.data["domains"] = res

    # -- 3b: request stream -------------------------------------------------------------
    def requests(self):
        cal = self.run([self.fib, "calibrate"], None)["bench"]["iters_per_us"]
        rq = self.size["req"]
        short_it = int(cal * rq["short_us"])
        long_it = int(cal * rq["long_ms"] * 1000)
        chunk = short_it          # cooperative: a yield every ~short_us of work
        common = ["1", str(rq["duration"]), str(rq["n_short"]), str(rq["n_long"]),
                  str(short_it), str(long_it)]
        configs = (["no shim"] + [c for c in ACTIVE] + ["systhreads", "cooperative"])
        res = {c: [] for c in configs}
        for r in range(self.runs):
            log(f"requests: round {r + 1}/{self.runs}")
            last = r == self.runs - 1
            for c in configs:
                dump = os.path.join(self.outdir, f"resp-{c.replace(' ', '-')}.txt") if last else ""
                if c == "systhreads":
                    argv = [self.thr, "requests"] + common + [dump]
                    cfg = None
                elif c == "cooperative":
                    argv = [self.fib, "requests", str(chunk)] + common + [dump]
                    cfg = None
                else:
                    argv = [self.fib, "requests", "0"] + common + [dump]
                    cfg = shim_config(c)
                res[c].append(slim(self.run(argv, cfg, expect_stats=c in ACTIVE)))
        self.data["requests"] = {"iters_per_us": cal, "short_iters": short_it,
                                 "long_iters": long_it, "chunk": chunk, "params": rq,
                                 "runs": res}

    # -- sites: the worst run under each OCPREEMPT_SITES policy ---------------------------
    def sites(self):
        fibers = self.size["fibers"]
        res = {w: {p: [] for p in SITE_POLICIES} for w in self.size["work"]}
        for r in range(self.runs):
            log(f"sites: round {r + 1}/{self.runs}")
            for w, n in self.size["work"].items():
                for policy in SITE_POLICIES:
                    cfg = shim_config("monitor 1ms")
                    cfg["OCPREEMPT_SITES"] = policy
                    x = self.run([self.fib, "overhead", w, str(n), str(fibers)], cfg,
                                 expect_stats=True, extra_env=WORKLOAD_ENV.get(w))
                    res[w][policy].append(slim(x))
        self.data["sites"] = res

    # -- decision: the landing rule's cost against the depth of the stack -----------------
    def decision(self):
        seconds = "1" if not self.args.quick else "0.2"
        res = {}
        for r in range(self.runs):
            log(f"decision: round {r + 1}/{self.runs}")
            for depth in DECISION_DEPTHS:
                for mode in ("still", "moving"):
                    x = self.run([self.deep, str(depth), seconds, mode],
                                 shim_config("monitor 1ms"), expect_stats=True)
                    res.setdefault(f"{depth} {mode}", []).append(slim(x))
        self.data["decision"] = res

    # -- 5: startup ---------------------------------------------------------------------
    # Programs and the shim configurations compared against the same program without it.
    # ocamlopt.opt -version is the CI user's case: a process of a preloaded build with
    # nothing to preempt ("nothing to do": no yield named, no scheduler linked); /bin/true
    # is any non-OCaml process of such a build. "cold": the full start-up analysis (the
    # analysis cache off); "warm": the same start from the analysis cache (filled by one
    # run before the rounds). The Eio program's yield is auto-detected (Eio.Fiber.yield);
    # ocamlopt.opt's is named (Stdlib.print_newline: any function of it would do).
    OCAMLOPT_YIELD = {"OCPREEMPT_YIELD": "Stdlib.print_newline"}
    STARTUP_CONFIGS = {
        "hello": {"no shim": None, "disabled": {"OCPREEMPT_DISABLE": "1"},
                  "active, cold": {"OCPREEMPT_YIELD": "Bench_hello.yield",
                                   "OCPREEMPT_ANALYSIS_CACHE": "off"},
                  "active, warm": {"OCPREEMPT_YIELD": "Bench_hello.yield"}},
        "eio": {"no shim": None, "active, cold": {"OCPREEMPT_ANALYSIS_CACHE": "off"},
                "active, warm": {}},
        "ocamlopt": {"no shim": None, "disabled": {"OCPREEMPT_DISABLE": "1"},
                     "nothing to do": {},
                     "active, cold": dict(OCAMLOPT_YIELD, OCPREEMPT_ANALYSIS_CACHE="off"),
                     "active, warm": dict(OCAMLOPT_YIELD)},
        "true": {"no shim": None, "preloaded": {}},
    }
    STARTUP_OK_STATUS = {"eio": (1,)}       # eco_eio without a case: "unknown case", 1

    def peak_rss_kib(self, argv, cfg, ok_status=(0,)):
        """The program's own peak RSS, from /usr/bin/time (which forks it from its own small
        process: ru_maxrss of a child forked by this Python process would start at Python's
        size, since Linux carries the high-water mark across exec). None without it."""
        if not os.access(TIME_PROGRAM, os.X_OK):
            return None
        with tempfile.NamedTemporaryFile(dir=self.runner.workdir) as out:
            self.run([TIME_PROGRAM, "-q", "-f", "%M", "-o", out.name] + argv, cfg,
                     ok_status=ok_status)
            return float(open(out.name).read().split()[-1])

    def startup(self):
        progs = {"hello": [self.hello], "eio": [self.eio], "ocamlopt": [OCAMLOPT, "-version"],
                 "true": ["/bin/true"]}
        have = {p: os.access(argv[0], os.X_OK) for p, argv in progs.items()}
        res = {p: {c: [] for c in self.STARTUP_CONFIGS[p]} for p in progs}
        reps = self.size["startup_reps"]
        for p, argv in progs.items():          # fill the analysis cache for "warm"
            if have[p] and "active, warm" in self.STARTUP_CONFIGS[p]:
                self.run(argv, self.STARTUP_CONFIGS[p]["active, warm"],
                         ok_status=self.STARTUP_OK_STATUS.get(p, (0,)))
        for r in range(self.runs):
            log(f"startup: round {r + 1}/{self.runs}")
            for _ in range(reps):
                for p, argv in progs.items():
                    if not have[p]:
                        continue
                    for c, cfg in self.STARTUP_CONFIGS[p].items():
                        x = self.run(argv, cfg, ok_status=self.STARTUP_OK_STATUS.get(p, (0,)))
                        row = {"wall": x["wall"], "cpu": x["cpu"],
                               "rss_kib": self.peak_rss_kib(
                                   argv, cfg, self.STARTUP_OK_STATUS.get(p, (0,)))}
                        if p == "hello":
                            row["to_main"] = float(x["stdout"].split()[0]) - x["t_start"]
                        res[p][c].append(row)
        # What the shim says about ocamlopt.opt in each configuration (OCPREEMPT_LOG=info).
        notes = {}
        if have["ocamlopt"]:
            for c, cfg in self.STARTUP_CONFIGS["ocamlopt"].items():
                if cfg is None:
                    continue
                p = subprocess.run(progs["ocamlopt"], env=self.runner.env_for(
                    dict(cfg, OCPREEMPT_LOG="info")), capture_output=True, text=True)
                notes[c] = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
        res["ocamlopt_notes"] = notes
        res["have"] = have
        self.data["startup"] = res


def chaos_section(suite):
    """Chaos mode on the overhead workloads (a new seed each round)."""
    configs = ["no shim"] + [f"chaos {r}" for r in CHAOS_RATES]
    fibers = suite.size["fibers"]
    res = {w: {c: [] for c in configs} for w in suite.size["work"]}
    for r in range(suite.runs):
        log(f"chaos: round {r + 1}/{suite.runs}")
        for w, n in suite.size["work"].items():
            for c in configs:
                argv = [suite.fib, "overhead", w, str(n), str(fibers)]
                cfg = None if c == "no shim" else chaos_config(c.split()[1], r + 1)
                x = suite.run(argv, cfg, expect_stats=cfg is not None,
                              extra_env=WORKLOAD_ENV.get(w))
                res[w][c].append(slim(x))
    suite.data["chaos"] = res
