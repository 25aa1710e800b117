"""The report: every figure computed from the raw data alone (Suite.data and the run's
meta), the target table (met, missed with the measured reason, or n/a), and the markdown
of BENCHMARKS.md. No I/O: cli.render writes it, beside the plot.
"""
import math

from benchlib.configs import (ACTIVE, CHAOS_DEFAULT_RATE, COOP, COOP_OVER_TARGET, COOP_US, COOPS,
                              LOADED, PATHS, QUANTA, QUANTUM_NS, SITE_POLICIES, ALLOCATING_WORKLOADS,
                              overhead_items)
from benchlib.stats import (median, paired, resolution, rounds_to_resolve, spread_kind, summary,
                            verdict)


# The targets (docs/benchmarks.md; shown in the table, never asserted). The overhead
# section's own (OVERHEAD_TARGET, COOP_OVER_TARGET) are in configs: its runner adds rounds
# until they are resolved.
FLOOR_RATIO_TARGET = 1.2     # issue 11: where the floor rules a target out, the request
                             # path's CPU while fibers run is within 1.2x of the floor
IDLE_TARGET_PCT = 0.1                   # CPU while every fiber sleeps, any quantum
RUN_P50_TARGET_Q = 1.1                  # uninterrupted run (ticker gap) p50, in quanta
RUN_P99_SLACK_MS = 1.0                  # ... and p99 <= Q + 1 ms (10ms and 1ms)
MUTATOR_COST_TARGET = 3.0                # hook's own time + one yield, over one yield
LATENCY_TARGET_NS = 50_000
REQUEST_TARGET_MS = 30.0
COST_TARGET = 10.0
STARTUP_TARGET_MS = 50.0
WARM_START_CPU_MS = 1.0      # issue 18: a warm start of a real target, over no shim
NOTHING_TO_DO_CPU_MS = 1.0      # ocamlopt.opt -version preloaded, nothing to preempt
NOTHING_TO_DO_RSS_KIB = 1536.0
CHAOS_TARGET = 10.0


def fmt(x, digits=3):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def fmt_sum(s, digits=3, unit=""):
    m, lo, hi = s
    if math.isnan(m):
        return "n/a"
    return f"{m:.{digits}f}{unit} ({lo:.{digits}f}-{hi:.{digits}f})"


def fmt_res(r, digits=3, unit=""):
    """A median with its resolution: "1.008 ±0.006 (IQR 0.021, 14 rounds)"."""
    m, h, iqr, n = r
    if not n or math.isnan(m):
        return "n/a"
    return f"{m:.{digits}f}{unit} ±{h:.{digits}f} (IQR {iqr:.{digits}f}, {n} rounds)"


def fmt_pct_res(r):
    """A ratio as a change with its resolution: "+0.8% ±0.6% (IQR 2.1%, 14 rounds)"."""
    m, h, iqr, n = r
    if not n or math.isnan(m):
        return "n/a"
    return f"{(m - 1) * 100:+.1f}% ±{h * 100:.1f}% (IQR {iqr * 100:.1f}%, {n} rounds)"


def pct(t):
    return f"{round((t - 1) * 100)}%"


def worst_verdict(rows):
    """Of (workload, resolution, verdict, target) rows: a missed one, else an unresolved
    one, else a met one; the highest median among those."""
    for v in ("missed", "unresolved", "met"):
        of = [x for x in rows if x[2] == v]
        if of:
            return max(of, key=lambda x: x[1][0])
    return rows[0]


def status(ok):
    """ok: True/False, None (a figure only reported), or a verdict string (stats.verdict)."""
    if ok is None:
        return "n/a"
    if isinstance(ok, str):
        return {"met": "met", "missed": "**missed**"}.get(ok, ok)
    return "met" if ok else "**missed**"


class Report:
    def __init__(self, data, args, meta):
        self.d = data
        self.args = args
        self.meta = meta
        self.targets = []          # rows of the target table
        self.sections = []         # (title, markdown)
        self.reasons = []          # (target, the measured reason it is missed)

    def target(self, what, config, value, target, ok, reason=None):
        self.targets.append((what, config, value, target, status(ok)))
        failed = ok is False or ok == "missed" or ok == "unresolved"
        if failed and not reason and self.meta.get("mode") == "quick":
            reason = "quick sizes (`--quick`): a smoke test of the driver; its figures mean nothing"
        if failed and reason:
            self.reasons.append((what, reason))

    # the physical floor: one wake of a bare C thread per quantum (bench/floor.c), as
    # (median, low, high) over the rounds: % of a core, and CPU per wake in us
    def floor_share(self, q):
        rr = (self.d.get("floor") or {}).get(q, [])
        return summary([x["bench"]["cpu_ns"] / 1e9 / x["bench"]["wall_s"] * 100
                        for x in rr if x["bench"]["wall_s"]])

    def floor_wake(self, q):
        rr = (self.d.get("floor") or {}).get(q, [])
        return summary([x["bench"]["cpu_ns"] / 1e3 / max(1, x["bench"]["wakes"]) for x in rr])

    def floor_share_pct(self, q):
        return self.floor_share(q)[0]

    def floor_wake_us(self, q):
        return self.floor_wake(q)[0]

    @staticmethod
    def spread_reason(lo, hi, target, unit=""):
        """A figure whose rounds straddle its target: this run cannot resolve it."""
        if math.isnan(lo) or lo > target:
            return ""
        return (f"the target lies inside this run's spread ({lo:.3g}{unit} to {hi:.3g}{unit} "
                f"over the rounds): the rounds disagree by more than the margin, which this "
                f"machine's noise does not let one run resolve")

    def floor_reason(self, q, target_pct):
        f = self.floor_share_pct(q)
        if math.isnan(f) or f < target_pct:
            return ""
        return (f"one wake per quantum, the least a thread that watches the fibers can do, "
                f"costs {f:.2f}% of a core at {q} on this machine (bench/floor.c), already "
                f"above the {target_pct:g}% target")

    # overhead --------------------------------------------------------------------------
    def overhead_floor_share(self, q):
        """The floor's share of a core at q (median, low, high), from the overhead section's
        own floor runs (the same run, the same load) where it has them."""
        rr = (self.d.get("overhead_floor") or {}).get(q)
        if not rr:
            return self.floor_share(q)
        return summary([x["bench"]["cpu_ns"] / 1e9 / x["bench"]["wall_s"] * 100
                        for x in rr if x["bench"]["wall_s"]])

    def shim_cost_cells(self, runs, q):
        """The shim's own cost in these runs: the monitor thread's CPU (stats monitor_cpu_ns)
        and the hook's time (hook_total_ns), each as a share of a core over the run's wall
        time with its resolution, and as a ratio to the floor at q (None: no floor)."""
        fl = self.overhead_floor_share(q)[0] if q else float("nan")
        cells = []
        for key in ("monitor_cpu_ns", "hook_total_ns"):
            vals = [x["stats"][key] / 1e9 / x["wall"] * 100 for x in runs
                    if key in x["stats"] and x["wall"]]
            if not vals:
                cells.append("n/a")
                continue
            r = resolution(vals)
            ratio = (f"; {fmt(r[0] / fl, 2)}x floor" if not math.isnan(fl) and fl > 0 else "")
            cells.append(f"{fmt_res(r, 3, '%')}{ratio}")
        return cells

    @staticmethod
    def run_p50_quanta(runs, q):
        """Each run's preempted_run_p50_ns in quanta (runs whose stats have it)."""
        qn = QUANTUM_NS.get(q)
        return [x["stats"]["preempted_run_p50_ns"] / qn for x in runs
                if qn and x["stats"].get("preempted_runs")]

    def run_p50_cell(self, runs, q):
        vals = self.run_p50_quanta(runs, q)
        return fmt_sum(summary(vals), 3) if vals else "n/a"

    def shim_own_share(self, runs):
        """Monitor + hook, % of a core, per run (runs whose stats have both)."""
        return [(x["stats"]["monitor_cpu_ns"] + x["stats"]["hook_total_ns"]) / 1e9 / x["wall"] * 100
                for x in runs if "monitor_cpu_ns" in x["stats"] and "hook_total_ns" in x["stats"]
                and x["wall"]]

    def overhead(self):
        res = self.d.get("overhead")
        if not res:
            return
        om = self.d.get("overhead_meta")
        cpu_ratio = lambda a, b: a["cpu"] / b["cpu"]
        rows, net_rows = [], []
        for w, by in res.items():
            base = by["no shim"]
            for c, runs in by.items():
                if c == "no shim":
                    rows.append(f"| {w} | {c} | 1 (base: {fmt(median([x['cpu'] for x in runs]), 3)} s, "
                                f"{len(runs)} rounds) | 1 (base: {fmt(median([x['wall'] for x in runs]), 3)} s) "
                                f"| | | | |")
                    continue
                cpu = resolution(paired(runs, base, cpu_ratio))
                wall = resolution(paired(runs, base, lambda a, b: a["wall"] / b["wall"]))
                q = c.split()[1] if c in ACTIVE else None
                if c in ACTIVE:
                    pre = median([x["stats"].get("preemptions", float("nan")) for x in runs])
                    rate = median([x["stats"].get("preemptions", float("nan")) / x["wall"] for x in runs])
                    extra = (f"{fmt(pre, 0)} | {fmt(rate, 0)} | {self.run_p50_cell(runs, q)} | "
                             + " | ".join(self.shim_cost_cells(runs, q)))
                elif c == LOADED:
                    extra = " | | | " + " | ".join(self.shim_cost_cells(runs, None))
                elif c in COOPS:
                    n = median([x["bench"].get("coop_yields", float("nan")) for x in runs])
                    rate = median([x["bench"].get("coop_yields", float("nan")) / x["wall"] for x in runs])
                    extra = f"{fmt(n, 0)} yields | {fmt(rate, 0)} | | | "
                else:
                    extra = " | | | | "
                rows.append(f"| {w} | {c} | {fmt_res(cpu)} | {fmt_res(wall)} | {extra} |")
                if c in ACTIVE and LOADED in by:
                    net = resolution(paired(runs, by[LOADED], cpu_ratio))
                    net_rows.append(f"| {w} | {c} | {fmt_res(net)} |")
        if om and om["rounds"] < om["min_rounds"]:
            how = (f"only {om['rounds']} of its {om['min_rounds']} rounds of every configuration "
                   f"fitted in its {om['budget_min']:g}-minute budget on this machine "
                   f"({om['spent_min']:.1f} min): no round was added")
        elif om:
            how = (f"{om['min_rounds']} rounds of every configuration, then rounds added for "
                   f"the ratios whose target was still unresolved (their configuration, its "
                   f"baseline and no shim, in alternating order), {om['rounds']} rounds in all, "
                   f"{om['spent_min']:.1f} of a {om['budget_min']:g}-minute budget; stopped: "
                   + {"resolved": "every target ratio resolved",
                      "budget": "the next round would have overrun the budget",
                      "rounds": "the round limit"}.get(om["stopped"], om["stopped"]))
        else:
            how = f"{len(next(iter(res.values()))['no shim'])} rounds"
        md = [f"CPU time (user+sys of the whole process, all threads) and wall time of "
              f"{self.meta['fibers']} CPU-bound fibers that never yield by themselves, as a "
              f"ratio to the no-shim run of the same round ({how}). Each ratio is the median "
              "over its rounds with its resolution: `±h` is the half-width of the median's "
              "~95% interval, 1.58 x IQR / sqrt(n) (the notch of a box plot), then the "
              "interquartile range of the single rounds and their number. A target is met "
              "when the whole interval lies at or below it, missed when it lies above, "
              f"unresolved otherwise. `{COOP}`: no shim, each fiber calls `yield ()` once it "
              f"has run {COOP_US} us (what interleaving the fibers costs by itself). "
              "The shim's own cost, from its stats at exit: `monitor` is the monitor thread's "
              "CPU (`monitor_cpu_ns`, its own clock), `hook` the interrupt hook's time over "
              "every call with a request pending (`hook_total_ns`), each as a share of a core "
              "over the run's wall time (median ±h) and as a ratio to the floor at the same "
              "quantum (`bench/floor.c`, a bare timer wake per quantum, measured in the same "
              "rounds): the figure a target can be set on where the whole process's noise is "
              "larger than the target. `run p50`: the median of the runs that ended in a "
              "preemption (switch to hook, wall time; stats `preempted_run_p50_ns`, a bucket "
              "floor, Q/32 wide), in quanta, median over rounds (min-max). "
              "`alloc` runs with `OCAMLRUNPARAM=s=128k` (see the notes).", "",
              "| workload | configuration | CPU ratio | wall ratio | preemptions | preemptions/s "
              "| run p50 (Q) | monitor (% of a core) | hook (% of a core) |",
              "|---|---|---|---|---|---|---|---|---|"] + rows
        if net_rows:
            md += ["", f"The preemption mechanism's own cost: CPU of each run with preemption "
                   f"over the run of the same round with the shim `{LOADED}` (active, program "
                   "analysed, monitor running, quantum 10 s): the fixed start-up cost (engine, "
                   "ELF and DWARF analysis: a few ms, see Start-up) cancels out. Median ±h "
                   "(IQR, rounds).", "",
                   "| workload | configuration | CPU ratio to the shim loaded, never due |",
                   "|---|---|---|"] + net_rows
        # Each ratio that carries a target, per workload, with its verdict.
        verdicts = {}
        item_rows = []
        for w, c, basec, t in overhead_items(list(res)):
            if c not in res[w] or basec not in res[w]:
                continue
            r = resolution(paired(res[w][c], res[w][basec], cpu_ratio))
            v = verdict(r, t)
            verdicts.setdefault((c, basec), []).append((w, r, v, t))
            item_rows.append(f"| {w} | {c} / {basec} | {fmt_pct_res(r)} | <= {pct(t)} | {v} |")
        if item_rows:
            md += ["", "Every ratio that carries a target, per workload (the target rows take the "
                   "worst workload: any missed, else any unresolved, else the highest median).", "",
                   "| workload | ratio | measured | target | verdict |", "|---|---|---|---|---|"] + item_rows
        idle = self.d.get("idle")
        if idle:
            md += ["", "The request path while the program sleeps (`bench_fib idle`): CPU of the "
                   "threads other than the main one, in % of one CPU (median, min-max).", "",
                   "| configuration | CPU while idle |", "|---|---|"]
            for c, runs in idle.items():
                v = summary([x["bench"].get("cpu_other_ns", 0) / 1e9 / x["bench"]["idle_s"] * 100
                             for x in runs])
                md.append(f"| {c} | {fmt_sum(v, 2, '%')} |")
        self.sections.append(("Overhead", "\n".join(md)))
        for path in PATHS:
            for q in QUANTA:
                c = f"{path} {q}"
                for basec in ("no shim", LOADED):
                    if (c, basec) not in verdicts:
                        continue
                    w, r, v, t = worst_verdict(verdicts[(c, basec)])
                    why = []
                    if v == "missed":
                        why = self.overhead_missed_why(res, w, q, t, basec)
                    elif v == "unresolved":
                        why = [self.unresolved_why(r, t, om)]
                    label = (f"overhead at {q} (worst workload: {w})" if basec == "no shim" else
                             f"overhead at {q} net of start-up, against the shim loaded and "
                             f"never due (worst workload: {w})")
                    self.target(label, path, fmt_pct_res(r), f"<= {round((t - 1) * 100)}%",
                                v, "; ".join(x for x in why if x))
                share = {w: resolution(self.shim_own_share(res[w].get(c, []))) for w in res}
                share = {w: s for w, s in share.items() if s[3]}
                fl = self.overhead_floor_share(q)[0]
                if share and not math.isnan(fl) and fl > 0:
                    self.own_cost_targets(share, fl, q, path)
                runs_p50 = {w: self.run_p50_quanta(res[w].get(c, []), q) for w in res}
                runs_p50 = {w: v for w, v in runs_p50.items() if v}
                if runs_p50:
                    w = max(runs_p50, key=lambda k: median(runs_p50[k]))
                    m = median(runs_p50[w])
                    self.target(f"run length p50 at {q} (runs ended by a preemption; worst "
                                f"workload: {w})", path,
                                f"{m:.3f} Q ({min(runs_p50[w]):.3f}-{max(runs_p50[w]):.3f})",
                                "<= 1.1 Q", "met" if m <= 1.1 else "missed",
                                None)

    def own_cost_targets(self, share, fl, q, path):
        """The shim's own CPU over the floor (issue 20: <= 0.3x for the self-clocked path):
        the worst workload, and for the self-clocked path the workloads that allocate
        (int and float do not: the monitor keeps its cadence for them by design)."""
        groups = [("worst workload", share)]
        if path == "self-clocked":
            alloc = {w: s for w, s in share.items() if w in ALLOCATING_WORKLOADS}
            if alloc:
                groups.append(("worst allocating workload", alloc))
        for label, by in groups:
            w = max(by, key=lambda k: by[k][0])
            s = by[w]
            lo, hi = (s[0] - s[1]) / fl, (s[0] + s[1]) / fl
            if path == "self-clocked":
                t, v = "<= 0.3x", "met" if hi <= 0.3 else "missed" if lo > 0.3 else "unresolved"
            else:
                t, v = "report", None
            self.target(f"the shim's own CPU at {q} (monitor + hook; {label}: {w}), over the "
                        f"floor", path, f"{s[0] / fl:.2f}x ({s[0]:.3f}% ±{s[1]:.3f} vs "
                        f"{fl:.3f}% of a core)", t, v)

    def overhead_missed_why(self, res, w, q, t, basec):
        why = [self.floor_reason(q, round((t - 1) * 100, 1))]
        if basec == "no shim":
            loaded = resolution(paired(res[w].get(LOADED, []), res[w]["no shim"],
                                       lambda a, b: a["cpu"] / b["cpu"]))
            if loaded[3]:
                why.append(f"the shim's fixed start-up cost (engine, analysis) is "
                           f"{fmt_pct_res(loaded)} of this "
                           f"{median([x['cpu'] for x in res[w]['no shim']]):.2f} s run of `{w}` "
                           f"(the shim loaded, never due); the mechanism's own cost is the net row")
            return why
        coop = f"cooperative {q}"
        if coop in res[w]:
            cr = resolution(paired(res[w][coop], res[w]["no shim"], lambda a, b: a["cpu"] / b["cpu"]))
            fl = self.floor_share_pct(q)
            if cr[0] - 1 >= t - 1:
                why.append(f"`{w}` switching fibers every {q} by itself, without the shim "
                           f"(`{coop}`), costs {fmt_pct_res(cr)}: the workload's own price of "
                           f"switching that often (its fibers' live data interleaved), which no "
                           f"preemption mechanism avoids")
            elif not any(why) and not math.isnan(fl) and fl / 100 + cr[0] - 1 >= t - 1:
                why.append(f"one wake per quantum ({fl:.2f}% of a core at {q}, bench/floor.c) "
                           f"plus what `{w}` pays for switching fibers every {q} by itself "
                           f"(`{coop}`: {(cr[0] - 1) * 100:+.1f}%) already exceed the "
                           f"{round((t - 1) * 100)}% target")
        return why

    @staticmethod
    def unresolved_why(r, t, om):
        m, h, iqr, n = r
        if not n:
            return "no rounds of this configuration"
        more = rounds_to_resolve(r, t)
        spent = (f"; the overhead section stopped ({om['stopped']}) after {om['rounds']} rounds "
                 f"and {om['spent_min']:.1f} of its {om['budget_min']:g} min"
                 if om else "")
        need = (f"; at this spread about {more} rounds would resolve it" if more else "")
        return (f"after {n} rounds the median's interval ({(m - h - 1) * 100:+.2f}% to "
                f"{(m + h - 1) * 100:+.2f}%) still contains the {(t - 1) * 100:g}% target: the "
                f"resolution reached is ±{h * 100:.2f}% (single rounds spread over an IQR of "
                f"{iqr * 100:.2f}%){need}{spent}")

    # latency ---------------------------------------------------------------------------
    def latency(self):
        res = self.d.get("overhead") or {}
        ticker = self.d.get("ticker")
        traced = self.d.get("traced", {})
        if not res and not ticker:
            return
        groups = list(res.keys()) + (["ticker"] if ticker else [])
        def runs_of(g, c):
            rr = ticker[c] if g == "ticker" else res[g][c]
            # Runs without a preemption have no latency to report.
            return [x for x in rr if "latency_p99_ns" in x["stats"]
                    and x["stats"].get("latency_samples", x["stats"].get("preemptions", 0)) > 0]
        have_keys = any(runs_of(g, c) for g in groups for c in ACTIVE)
        rows = []
        worst = {}
        for c in ACTIVE:
            t = traced.get(c, {})
            tl = t.get("latencies_ns", {"n": 0})
            cells = []
            allruns = []
            for g in groups:
                rr = runs_of(g, c)
                allruns += [(g, x) for x in rr]
                if rr:
                    p99 = summary([x["stats"]["latency_p99_ns"] / 1e3 for x in rr])
                    cells.append(fmt_sum(p99, 0))
                    kind = "gc" if g == "gc" else "mutator"
                    key = (c.split()[0], kind)
                    if key not in worst or p99[0] > worst[key][2][0]:
                        worst[key] = (c, g, p99)
                elif not have_keys and g == "ticker" and tl["n"]:
                    cells.append(f"{tl['p99'] / 1e3:.0f} (trace)")
                    key = (c.split()[0], "mutator")
                    v = (tl["p99"] / 1e3,) * 3
                    if key not in worst or v[0] > worst[key][2][0]:
                        worst[key] = (c, g, v)
                else:
                    cells.append("n/a")
            p50 = summary([x["stats"]["latency_p50_ns"] / 1e3 for g, x in allruns if g != "gc"])
            mx = max([x["stats"]["latency_max_ns"] for g, x in allruns], default=float("nan")) / 1e3
            longest = max([x["stats"].get("longest_run_ns", float("nan")) for g, x in allruns],
                          default=float("nan")) / 1e6
            g = t.get("gaps_us", {"n": 0})
            q_us = QUANTUM_NS[c.split()[1]] / 1e3
            cross = (f"{fmt(g['p50'] - q_us, 0)} / {fmt(g['p99'] - g['p50'], 0)}"
                     if g.get("n") else "n/a")
            trace = (f"{fmt(tl['p50'] / 1e3, 1)} / {fmt(tl['p99'] / 1e3, 1)}" if tl["n"] else "n/a")
            rows.append(f"| {c} | {fmt_sum(p50, 1)} | " + " | ".join(cells) +
                        f" | {fmt(mx, 0)} | {trace} | "
                        f"{fmt(g['p50'] / 1e3, 2) if g.get('n') else 'n/a'} | {cross} | {fmt(longest, 2)} |")
        head = ("| configuration | p50, all but gc (us) | " +
                " | ".join(f"p99 {g} (us)" for g in groups) +
                " | max (us) | trace p50 / p99 (us) | ticker gap p50 (ms) | gap p50 - Q / gap p99 - p50 (us) | longest run (ms) |")
        md = ["Request (the fiber found overdue) to the stub's entry, in microseconds, from the "
              "shim's stats line of every run: the median over rounds of the per-run "
              "percentiles (min-max), per workload; `max` over all runs"
              + ("" if have_keys else " -- **this shim prints no latency keys; only the traced "
                 "run's figures are available**") + ". `trace`: one traced hog+ticker run "
              "(per-preemption `latency_ns`). Wall-clock cross-check from the ticker's gaps in "
              "that run: `gap p50 - Q` (how far the run exceeds the quantum: rounding to the "
              "sampler's period, plus the latency) and `gap p99 - p50` (the tail: latency "
              "jitter plus timer jitter). `longest run`: the shim's `longest_run_ns`, max over "
              "runs. The latency is wall-clock: a thread the kernel preempts between the "
              "request and the stub (a loaded machine) adds that time.", "",
              head, "|" + "---|" * (head.count("|") - 1)] + rows
        self.sections.append(("Preemption latency", "\n".join(md)))
        for path in PATHS:
            for kind, label in (("mutator", "latency p99, mutator-bound (int, alloc, float, ticker)"),
                                ("gc", "latency p99, gc workload")):
                if (path, kind) in worst:
                    c, g, p99 = worst[(path, kind)]
                    why = ""
                    rr = [x for x in (res.get(g) or {}).get(c, [])
                          if "request_to_hook_p99_ns" in x["stats"]]
                    if rr:
                        to_hook = median([x["stats"]["request_to_hook_p99_ns"] / 1e3 for x in rr])
                        why = (f"p99 {to_hook:.0f} us of it passes before the shim's hook runs "
                               f"(`request_to_hook_p99_ns`): the runtime does the pending minor "
                               f"collection or major slice in caml_do_pending_actions first, and "
                               f"only then calls the interrupt hook; the hook and the stub take "
                               f"microseconds")
                    self.target(f"{label}; worst: {g} at {c.split()[1]}", path,
                                f"{p99[0]:.0f} us ({p99[1]:.0f}-{p99[2]:.0f})", "<= 50 us",
                                p99[0] * 1e3 <= LATENCY_TARGET_NS, why)

    # fairness --------------------------------------------------------------------------
    def fairness(self):
        ticker = self.d.get("ticker")
        if not ticker:
            return
        base = ticker["no shim"]
        rows = []
        for c, runs in ticker.items():
            worst = summary([x["bench"]["gap_max_us"] / 1e3 for x in runs])
            p99 = summary([x["bench"]["gap_p99_us"] / 1e3 for x in runs])
            ratio = summary(paired(runs, base, lambda a, b: a["bench"]["gap_max_us"] / b["bench"]["gap_max_us"]))
            ticks = median([x["bench"]["ticks"] for x in runs])
            q = f"{summary([x['bench']['gap_max_us'] / QUANTUM_NS[c.split()[1]] * 1e3 for x in runs])[0]:.2f}" if c in ACTIVE else ""
            rows.append(f"| {c} | {fmt_sum(worst, 2)} | {fmt_sum(p99, 2)} | {q} | "
                        f"{fmt_sum(ratio, 4) if c != 'no shim' else '1'} | {fmt(ticks, 0)} |")
        md = ["A ticker fiber beside a hog that never yields (one run of the hog: "
              f"{fmt(median([x['wall'] for x in base]), 2)} s). Gaps between the ticker's turns "
              "in ms: median over rounds (min-max); `worst / Q` is the worst gap in quanta; the "
              "ratio is to the no-shim worst gap of the same round.", "",
              "| configuration | worst gap (ms) | gap p99 (ms) | worst / Q | worst gap ratio to no shim | ticks |",
              "|---|---|---|---|---|---|"] + rows
        self.sections.append(("Fairness: hog and ticker", "\n".join(md)))

    def requests(self):
        rq = self.d.get("requests")
        if not rq:
            return
        p = rq["params"]
        runs = rq["runs"]
        base = runs["no shim"]
        rows = []
        for c, rr in runs.items():
            sp50 = summary([x["bench"]["short_p50_ms"] for x in rr])
            sp99 = summary([x["bench"]["short_p99_ms"] for x in rr])
            ap99 = summary([x["bench"]["all_p99_ms"] for x in rr])
            smax = summary([x["bench"]["short_max_ms"] for x in rr])
            lmax = summary([x["bench"]["long_max_ms"] for x in rr])
            ratio = summary(paired(rr, base, lambda a, b: a["bench"]["short_p99_ms"] / b["bench"]["short_p99_ms"]))
            cpu = summary(paired(rr, base, lambda a, b: a["cpu"] / b["cpu"]))
            rows.append(f"| {c} | {fmt_sum(sp50, 2)} | {fmt_sum(sp99, 2)} | {fmt_sum(ratio, 3) if c != 'no shim' else '1'} | "
                        f"{fmt_sum(smax, 1)} | {fmt_sum(ap99, 2)} | {fmt_sum(lmax, 1)} | {fmt_sum(cpu, 3) if c != 'no shim' else '1'} |")
        md = [f"Open-loop arrivals over {p['duration']} s: {p['n_short']} short requests "
              f"(~{p['short_us']} us of work each, Poisson arrivals) and {p['n_long']} long ones "
              f"(~{p['long_ms']} ms each, at random times), {rq['short_iters']} and "
              f"{rq['long_iters']} iterations of the same loop (calibrated "
              f"{rq['iters_per_us']:.0f} iterations/us). A generator fiber spawns one fiber per "
              "request when its arrival time has passed; the response time counts from the "
              "scheduled arrival. `systhreads`: a `Thread` per request, created at its arrival "
              "(OCaml's 50 ms tick); `cooperative`: no shim, the request loop calls `yield ()` "
              f"every {rq['chunk']} iterations (~{p['short_us']} us). Response times in ms, "
              "median over rounds (min-max); ratio of the short p99 to the no-shim one of the "
              "same round; CPU ratio to the no-shim run.", "",
              "| configuration | short p50 | short p99 | short p99 ratio | short max | all p99 | long max | CPU ratio |",
              "|---|---|---|---|---|---|---|---|"] + rows
        self.sections.append(("Fairness: request stream", "\n".join(md)))
        for path in PATHS:
            c = f"{path} 10ms"
            if c in runs:
                s = summary([x["bench"]["short_p99_ms"] for x in runs[c]])
                self.target("short-request p99 at 10ms", path, f"{s[0]:.1f} ms ({s[1]:.1f}-{s[2]:.1f})",
                            "<= 30 ms", s[0] <= REQUEST_TARGET_MS)

    # cost ------------------------------------------------------------------------------
    def cost(self):
        res = self.d.get("overhead")
        ys = self.d.get("yield")
        if not res or not ys or "int" not in res:
            return
        by = res["int"]
        base = by["no shim"]
        ycost = [y["cpu"] / y["bench"]["yields"] * 1e9 for y in ys]
        ysum = summary(ycost)
        def per(a, b, count, key=None):
            n = count(a)
            if not n or n <= 0:
                return float("nan")
            if key:
                return (a["bench"][key] - b["bench"][key]) / n
            return (a["cpu"] - b["cpu"]) * 1e9 / n
        def minbased(runs, count):
            n = median([count(x) for x in runs])
            if not n:
                return float("nan")     # nothing was preempted: no cost per preemption
            return (min(x["cpu"] for x in runs) - min(x["cpu"] for x in base)) * 1e9 / n
        rows = [f"| voluntary `yield ()`, tight loop | {fmt_sum(ysum, 0)} | | | | 1 |"]
        npre = lambda x: x["stats"].get("preemptions", 0)
        ncoop = lambda x: x["bench"].get("coop_yields", 0)
        if COOP in by:
            cy = paired(by[COOP], base, lambda a, b: per(a, b, ncoop))
            cm = paired(by[COOP], base, lambda a, b: per(a, b, ncoop, "cpu_main_ns"))
            rows.append(f"| voluntary `yield ()` every {COOP_US} us in the `int` workload | "
                        f"{fmt_sum(summary(cy), 0)} | {fmt_sum(summary(cm), 0)} | 0 | "
                        f"{fmt(minbased(by[COOP], ncoop), 0)} | "
                        f"{fmt_sum(summary([t / y for t, y in zip(cy, ycost)]), 1)} |")
        for c in ACTIVE:
            if c.endswith("10ms"):
                continue            # too few preemptions to rise above the noise
            runs = by[c]
            total = paired(runs, base, lambda a, b: per(a, b, npre))
            main = paired(runs, base, lambda a, b: per(a, b, npre, "cpu_main_ns"))
            other = paired(runs, base, lambda a, b: per(a, b, npre, "cpu_other_ns"))
            rs = summary([t / y for t, y in zip(total, ycost)])
            rows.append(f"| preemption, {c} ({fmt(median([npre(x) for x in runs]), 0)} per run) | "
                        f"{fmt_sum(summary(total), 0)} | {fmt_sum(summary(main), 0)} | "
                        f"{fmt_sum(summary(other), 0)} | {fmt(minbased(runs, npre), 0)} | {fmt_sum(rs, 1)} |")
            if c.endswith("100us"):
                wake = self.floor_wake_us("100us")
                why = ""
                if not math.isnan(wake):
                    why = (f"one wake of a bare C thread costs {wake:.1f} us of CPU here "
                           f"(bench/floor.c) = {wake * 1e3 / ysum[0]:.0f} voluntary yields: a "
                           f"mechanism that wakes a watcher once per quantum cannot come near "
                           f"{COST_TARGET:g}x; this one costs {summary(total)[0] / 1e3 / wake:.2f} "
                           f"floor wakes per preemption, the fibers' own share "
                           f"{summary(main)[0]:.0f} ns (the next column)")
                self.target("CPU per preemption at 100us / one voluntary yield", c.split()[0],
                            f"{rs[0]:.0f}x ({rs[1]:.0f}-{rs[2]:.0f}); {summary(total)[0]:.0f} ns vs {ysum[0]:.0f} ns",
                            f"<= {COST_TARGET:g}x", rs[0] <= COST_TARGET, why)
        md = ["CPU time per event, in ns: (CPU of the `int` overhead run - CPU of the no-shim "
              "run of the same round) / number of events (preemptions from the stats; "
              "voluntary yields counted by the program), median over rounds (min-max). Split by "
              "thread from `/proc/self/task/*/schedstat`: `fibers' thread` (hook, stub, yield, "
              "cache effects) and `other threads` (the monitor, which costs per sample rather "
              "than per preemption). `min-based`: (fastest run - fastest baseline) / median "
              "count, less sensitive to a loaded machine. The ratio is to the tight-loop yield "
              "of the same round (4 fibers yielding: effect, queue, continuation). The 10ms "
              "rows are left out: 30 preemptions per run are lost in the noise.", "",
              "| event | CPU per event (ns) | fibers' thread (ns) | other threads (ns) | min-based (ns) | ratio to a yield |",
              "|---|---|---|---|---|---|"] + rows
        self.sections.append(("Cost per preemption", "\n".join(md)))


    # request path (issue 11's table) ---------------------------------------------------
    def request_path(self):
        floor = self.d.get("floor") or {}
        idle = self.d.get("idle") or {}
        ticker = self.d.get("ticker") or {}
        doms = self.d.get("domains") or {}
        res = self.d.get("overhead") or {}
        pct = lambda cpu_ns, wall_s: cpu_ns / 1e9 / wall_s * 100 if wall_s else float("nan")
        floor_pct = {q: self.floor_share(q) for q in floor}
        rows = []
        def row(label, cells):
            rows.append(f"| {label} | " + " | ".join(cells) + " |")
        if floor_pct:
            row("physical floor: a bare C thread waking every Q (% of a core)",
                [fmt_sum(floor_pct.get(q, (float("nan"),) * 3), 2) for q in QUANTA])
            row("floor: CPU per wake (us)", [fmt_sum(self.floor_wake(q), 1) for q in QUANTA])
        idle_pct = {}
        for q in QUANTA:
            rr = idle.get(f"monitor {q}", [])
            idle_pct[q] = summary([pct(x["bench"].get("cpu_other_ns", 0), x["bench"]["idle_s"])
                                   for x in rr])
        if idle:
            row("while every fiber sleeps: request path CPU (% of a core)",
                [fmt_sum(idle_pct[q], 3) for q in QUANTA])
            for q in QUANTA:
                v = idle_pct[q]
                if not math.isnan(v[0]):
                    self.target(f"CPU while idle at {q} (the monitor, all fibers asleep)",
                                "monitor", f"{v[0]:.3f}% ({v[1]:.3f}-{v[2]:.3f})",
                                f"<= {IDLE_TARGET_PCT}%", v[0] <= IDLE_TARGET_PCT)
        run_pct = {}
        if ticker:
            cells_cpu, cells_ratio, cells_run = [], [], []
            for q in QUANTA:
                rr = ticker.get(f"monitor {q}", [])
                run_pct[q] = summary([pct(x["bench"].get("cpu_other_ns", 0), x["wall"]) for x in rr])
                cells_cpu.append(fmt_sum(run_pct[q], 2))
                f = floor_pct.get(q)
                cells_ratio.append(fmt(run_pct[q][0] / f[0], 2) if f and f[0] > 0 else "n/a")
                if rr and f and f[0] > 0:
                    self.target(f"monitor CPU while a hog runs at {q}, over the floor (one "
                                f"bare wake per quantum)", "monitor",
                                f"{run_pct[q][0] / f[0]:.2f}x ({run_pct[q][0]:.2f}% vs {f[0]:.2f}% of a core)",
                                f"<= {FLOOR_RATIO_TARGET:g}x", run_pct[q][0] / f[0] <= FLOOR_RATIO_TARGET)
                qms = QUANTUM_NS[q] / 1e6
                p50 = summary([x["bench"]["gap_p50_us"] / 1e3 / qms for x in rr])
                p99 = summary([x["bench"]["gap_p99_us"] / 1e3 for x in rr])
                cells_run.append(f"{fmt_sum(p50, 2)} Q / {fmt(p99[0], 2)} ms")
                if not rr:
                    continue
                if q == "100us":
                    self.target("uninterrupted run at 100us (ticker gap p50 / p99): measured",
                                "monitor", f"{p50[0]:.2f} Q / {p99[0]:.3f} ms", "report", None)
                    continue
                self.target(f"uninterrupted run at {q} (ticker gap p50)", "monitor",
                            f"{p50[0]:.2f} Q ({p50[1]:.2f}-{p50[2]:.2f})",
                            f"<= {RUN_P50_TARGET_Q} Q", p50[0] <= RUN_P50_TARGET_Q,
                            self.spread_reason(p50[1], p50[2], RUN_P50_TARGET_Q, " Q"))
                self.target(f"uninterrupted run at {q} (ticker gap p99)", "monitor",
                            f"{p99[0]:.2f} ms ({p99[1]:.2f}-{p99[2]:.2f})",
                            f"<= Q + {RUN_P99_SLACK_MS:g} ms", p99[0] <= qms + RUN_P99_SLACK_MS,
                            self.spread_reason(p99[1], p99[2], qms + RUN_P99_SLACK_MS, " ms"))
            row("a hog running: monitor CPU (% of a core)", cells_cpu)
            row("... as a ratio to the floor", cells_ratio)
            row("run length (ticker gap) p50 in quanta / p99", cells_run)
        coop_cells = []
        gc = res.get("gc", {})
        for q in QUANTA:
            coop = f"cooperative {q}"
            if coop in gc and f"monitor {q}" in gc:
                r = resolution(paired(gc[f"monitor {q}"], gc[coop], lambda a, b: a["cpu"] / b["cpu"]))
                coop_cells.append(fmt_res(r))
                if q in COOP_OVER_TARGET:
                    t = COOP_OVER_TARGET[q]
                    v = verdict(r, t)
                    self.target(f"gc workload at {q} against the program yielding every {q}",
                                "monitor", fmt_pct_res(r), f"<= +{round((t - 1) * 100)}%", v,
                                self.unresolved_why(r, t, self.d.get("overhead_meta"))
                                if v == "unresolved" else "")
            else:
                coop_cells.append("n/a")
        if gc:
            row("gc workload: CPU over the same program yielding cooperatively every Q", coop_cells)
        ys = self.d.get("yield")
        by = res.get("int", {})
        if ys and by:
            y = median([x["cpu"] / x["bench"]["yields"] * 1e9 for x in ys])
            cells = []
            for q in QUANTA:
                rr = [x for x in by.get(f"monitor {q}", [])
                      if "hook_ns_p50" in x["stats"] and x["stats"].get("preemptions", 0) > 0]
                h = median([x["stats"]["hook_ns_p50"] for x in rr]) if rr else float("nan")
                cells.append("n/a (no preemption)" if math.isnan(h) else
                             f"{fmt(h, 0)} ns hook + {fmt(y, 0)} ns yield = {fmt((h + y) / y, 2)}x")
                if q == "100us" and not math.isnan(h):
                    hs = summary([x["stats"]["hook_ns_p50"] for x in rr])
                    self.target("mutator's own cost per preemption at 100us (hook p50 + one "
                                "yield) / one voluntary yield", "monitor",
                                f"{(h + y) / y:.2f}x ({h:.0f} + {y:.0f} ns)",
                                f"<= {MUTATOR_COST_TARGET:g}x", (h + y) / y <= MUTATOR_COST_TARGET,
                                self.spread_reason((hs[1] + y) / y, (hs[2] + y) / y,
                                                   MUTATOR_COST_TARGET, "x"))
            row("mutator's own cost per preemption (hook p50 from the stats; the stub's few "
                "dozen instructions excluded)", cells)
        if gc:
            cells = []
            for q in QUANTA:
                rr = [x for x in gc.get(f"monitor {q}", []) if "request_to_hook_p99_ns" in x["stats"]
                      and x["stats"].get("preemptions", 0) > 0]
                if not rr:
                    cells.append("n/a")
                    continue
                tot = median([x["stats"]["latency_p99_ns"] / 1e3 for x in rr])
                hook = median([x["stats"]["request_to_hook_p99_ns"] / 1e3 for x in rr])
                cells.append(f"{fmt(tot, 0)} us = {fmt(hook, 0)} to the hook + the rest")
            row("gc workload, request to stub p99: the part before the hook (pending GC work "
                "runs before the runtime calls the interrupt hook) and hook to stub", cells)
        dom_cells = []
        for q in QUANTA:
            rr = doms.get(f"monitor {q}", [])
            if not rr:
                dom_cells.append("n/a")
                continue
            qms = QUANTUM_NS[q] / 1e6
            g = lambda k: median([x["bench"][k] / 1e3 / qms for x in rr])
            mon = median([pct(x["bench"].get("cpu_other_ns", 0), x["wall"]) for x in rr])
            dom_cells.append(f"d1 {fmt(g('d1_gap_p50_us'), 2)}/{fmt(g('d1_gap_p99_us'), 1)} Q, "
                             f"d2 {fmt(g('d2_gap_p50_us'), 2)}/{fmt(g('d2_gap_p99_us'), 1)} Q; "
                             f"other threads {fmt(mon, 2)}%")
        if doms:
            row("2 domains, a hog and a ticker each: run p50/p99 per domain; CPU of the threads "
                "other than the domains' (the monitor, the runtime's backup threads)", dom_cells)
        if not rows:
            return
        md = ["The request path against issue 11's table, per quantum (median over rounds, "
              "min-max). `floor`: `bench/floor.c`, a bare C thread that only sleeps with "
              "`clock_nanosleep` to absolute deadlines one quantum apart (timer slack as the "
              "monitor's): what one wake per quantum costs on this machine. `while every "
              "fiber sleeps`: `bench_fib idle` (threads other than the main one, i.e. the "
              "monitor). `a hog running`: the monitor's CPU during the hog+ticker runs "
              "(`/proc/self/task/*/schedstat`), and as a ratio to the floor. `run length`: "
              "the ticker's gaps beside a hog that never yields, i.e. the hog's "
              "uninterrupted runs, in quanta. `gc workload`: CPU of the shim's run over the "
              "same program, no shim, where each fiber yields once it has run Q (the same "
              "rate of switches). `mutator's own cost`: the hook's median time per injected "
              "preemption (`hook_ns_p50`) plus one voluntary yield, over one voluntary yield. "
              "`2 domains`: `bench_fib domains`; on 2 cores the monitor competes with both "
              "hogs (its timer slack is Q/64, its wakes are shared between close deadlines).",
              "", "| figure | " + " | ".join(QUANTA) + " |", "|---|---|---|---|"] + rows
        self.sections.append(("Request path", "\n".join(md)))

    # startup ---------------------------------------------------------------------------
    def sites(self):
        res = self.d.get("sites")
        if not res:
            return
        rows = []
        for w, per in res.items():
            cells = []
            for policy in SITE_POLICIES:
                runs = per[policy]
                # an implausible figure (the stats' longest-run underflow) is left out
                vals = [x["stats"]["longest_run_ns"] / 1e6 for x in runs
                        if x["stats"].get("longest_run_ns", 1e18) < 3.6e12]
                pre = median([x["stats"].get("preemptions", 0) for x in runs])
                alloc = median([x["stats"].get("preempt_alloc", 0) for x in runs])
                cells.append(f"{fmt_sum(summary(vals), 1) if vals else '-'} "
                             f"({fmt(pre, 0)}, {fmt(alloc, 0)} at allocations)")
            rows.append(f"| {w} | " + " | ".join(cells) + " |")
        md = ["The longest run without yielding (ms, the shim's `longest_run_ns`; median over "
              "rounds with the spread) of each CPU-bound workload, monitor 1ms, under each "
              "`OCPREEMPT_SITES` policy; in brackets the preemptions and how many landed at "
              "allocation sites. `poll` never preempts at an allocation, `loop` only at "
              "allocations that are a loop's only safe points (README: what each keeps "
              "atomic).", "",
              "| workload | poll | loop | all |", "|---|---|---|---|"] + rows
        self.sections.append(("Site policy: longest run", "\n".join(md)))

    def switchlog(self):
        sl, empty = self.d.get("switchlog"), self.d.get("switchlog_empty")
        if not sl or not empty:
            return
        def per_yield(x, e):    # CPU of the yields alone: the same program without any
            return (x["cpu"] - e["cpu"]) / x["bench"]["yields"] * 1e9  # yield subtracted
        cols = {c: [per_yield(x, e) for x, e in zip(sl[c], empty[c])] for c in sl}
        base = cols["no shim"]
        rows = []
        for c in ("counted", "logged"):
            extra = [v - b for v, b in zip(cols[c], base)]      # same round
            ratio = [e / b for e, b in zip(extra, base)]
            rows.append(f"| {c} | {fmt_sum(summary(cols[c]), 1)} | "
                        f"{fmt_sum(summary(extra), 1)} | {fmt_sum(summary(ratio), 3)} |")
        md = ["The voluntary-yield loop (`bench_fib yield`: every yield is a `caml_resume` of "
              "another fiber, so one pass through the switch trampoline). `counted`: the shim "
              "active, stats off: the trampoline counts the switch (the monitor's switch "
              "detection); `logged`: stats on, so the trampoline also logs the switch for "
              "per-fiber accounting (shim/base/fiber_log.h) and the monitor drains the logs. "
              "CPU per yield: the process's CPU time minus that of the same program with no "
              "yield (start-up, analysis and exit) in the same configuration and round, over "
              "the yields; extra: above the no-shim figure of the same round; ratio: that "
              "over one no-shim yield.", "",
              f"| config | CPU per yield (ns) | extra (ns) | ratio to a yield |",
              "|---|---|---|---|",
              f"| no shim | {fmt_sum(summary(base), 1)} | | |"] + rows
        self.sections.append(("Switch trampoline: counting and logging", "\n".join(md)))

    def decision(self):
        dec = self.d.get("decision")
        if not dec:
            return
        rows = []
        for key, runs in dec.items():
            depth, mode = key.split()
            st = [x["stats"] for x in runs]
            if not all("decision_mean_ns" in s for s in st):
                rows.append(f"| {depth} | {mode} | (no decision keys in this shim's stats) | | | |")
                continue
            mean = summary([s["decision_mean_ns"] / 1e3 for s in st])
            worst = max(s["decision_max_ns"] for s in st) / 1e3
            frames = max(s["walk_frames_max"] for s in st)
            calls = median([s["hook_calls"] for s in st])
            rows.append(f"| {depth} | {mode} | {fmt_sum(mean, 2)} | {fmt(worst, 1)} | "
                        f"{fmt(frames, 0)} | {fmt(calls, 0)} |")
        md = ["One fiber recursed DEPTH frames deep (no tail calls) hogs beside a ticker, "
              "monitor 1ms. `still`: it computes at the bottom; `moving`: it climbs up and "
              "down DEPTH/10 frames again and again. A decision is one call of the landing "
              "rule (shim/landing/landing.c) per request, the stack walk included; every walk "
              "covers the whole fiber (exact by construction, shim/landing/fiber_walk.h: a "
              "per-thread memo of each return address's frame size and class, nothing "
              "else), so its cost follows the depth. Worst: the slowest decision of the "
              "run (the first one also fills the memo).", "",
              "| depth | mode | decision mean (us) | worst (us) | most frames walked | decisions |",
              "|---|---|---|---|---|---|"] + rows
        self.sections.append(("Decision cost against stack depth", "\n".join(md)))

    def startup(self):
        st = self.d.get("startup")
        if not st:
            return
        labels = {"hello": "small program (bench_hello)",
                  "eio": "Eio program (`eco_eio`, exits at once)",
                  "ocamlopt": "`ocamlopt.opt -version`", "true": "`/bin/true` (not OCaml)"}
        rows = []
        n = 0
        for prog, by in st.items():
            if prog not in labels or not by.get("no shim"):
                continue
            base = by["no shim"]
            n = len(base)
            for c, rr in by.items():
                cells = []
                for key, scale, digits in (("cpu", 1e3, 2), ("wall", 1e3, 2), ("rss_kib", 1, 0)):
                    vals = [x[key] * scale for x in rr if x.get(key) is not None]
                    m = summary(vals)
                    if c == "no shim":
                        cells.append(fmt_sum(m, digits))
                        continue
                    d = summary([(a[key] - b[key]) * scale for a, b in zip(rr, base)
                                 if a.get(key) is not None and b.get(key) is not None])
                    cells.append(f"{fmt_sum(m, digits)}<br>{'+' if d[0] >= 0 else ''}"
                                 f"{fmt_sum(d, digits)}")
                to_main = ""
                if prog == "hello" and c != "no shim":
                    to_main = fmt_sum(summary(paired(
                        rr, base, lambda a, b: (a["to_main"] - b["to_main"]) * 1e3)), 2)
                rows.append(f"| {labels[prog]} | {c} | " + " | ".join(cells) + f" | {to_main} |")
        by = st.get("ocamlopt", {})
        if by.get("nothing to do"):
            base = by["no shim"]
            dc = summary(paired(by["nothing to do"], base, lambda a, b: (a["cpu"] - b["cpu"]) * 1e3))
            self.target("start-up, nothing to preempt (ocamlopt.opt -version): CPU", "any",
                        f"+{dc[0]:.2f} ms ({dc[1]:.2f}-{dc[2]:.2f})",
                        f"<= +{NOTHING_TO_DO_CPU_MS:.0f} ms", dc[0] <= NOTHING_TO_DO_CPU_MS)
            pairs = [(a, b) for a, b in zip(by["nothing to do"], base)
                     if a.get("rss_kib") is not None and b.get("rss_kib") is not None]
            if pairs:
                dr = summary([a["rss_kib"] - b["rss_kib"] for a, b in pairs])
                self.target("start-up, nothing to preempt (ocamlopt.opt -version): peak RSS",
                            "any", f"+{dr[0]:.0f} KiB ({dr[1]:.0f}-{dr[2]:.0f})",
                            f"<= +{NOTHING_TO_DO_RSS_KIB:.0f} KiB",
                            dr[0] <= NOTHING_TO_DO_RSS_KIB)
        if by.get("active, cold"):
            d = summary(paired(by["active, cold"], by["no shim"], lambda a, b: (a["wall"] - b["wall"]) * 1e3))
            self.target("load-time analysis on ocamlopt.opt (with a yield function)", "any",
                        f"{d[0]:.1f} ms ({d[1]:.1f}-{d[2]:.1f})", "<= 50 ms", d[0] <= STARTUP_TARGET_MS)
        for prog, what in (("eio", "the Eio program"), ("ocamlopt", "ocamlopt.opt, a yield named")):
            pb = st.get(prog, {})
            if pb.get("active, warm") and pb.get("no shim"):
                d = summary(paired(pb["active, warm"], pb["no shim"],
                                   lambda a, b: (a["cpu"] - b["cpu"]) * 1e3))
                self.target(f"warm start from the analysis cache ({what}): CPU over no shim",
                            "any", f"+{d[0]:.2f} ms ({d[1]:.2f}-{d[2]:.2f})",
                            f"<= +{WARM_START_CPU_MS:.0f} ms", d[0] <= WARM_START_CPU_MS)
        notes = st.get("ocamlopt_notes", {})
        md = [f"{n} samples per configuration (interleaved), median ({spread_kind(n)}); under "
              "each figure with the shim, its difference to the no-shim sample taken just "
              "before. CPU: user + system time of the process (`wait4`). Peak RSS: "
              "`/usr/bin/time -f %M` (the program's own high-water mark; n/a without GNU "
              "time). `start to main`: from just before the driver spawns the process to the "
              "time `main` prints. `disabled`: `OCPREEMPT_DISABLE=1`. `nothing to do`: the "
              "shim preloaded with `OCPREEMPT_YIELD` unset; the front (`libocpreempt.so`) sees "
              "no known scheduler among the program's units and never loads the engine. "
              "`active`: a yield is named (`Bench_hello.yield`; `Stdlib.print_newline` in "
              "ocamlopt.opt) or detected (`Eio.Fiber.yield`); `cold`: the full start-up "
              "(engine, ELF and DWARF analysis, site table, monitor thread) with "
              "`OCPREEMPT_ANALYSIS_CACHE=off`; `warm`: the same start restored from the "
              "analysis cache (filled by one run before the rounds; docs/design.md, \"The "
              "analysis cache\"). The Eio program is the ecosystem tests' `eco_eio` "
              "(built by `ctest -L ecosystem`; absent, its rows are left out).", "",
              "| program | configuration | CPU (ms) | wall (ms) | peak RSS (KiB) | start to main, delta (ms) |",
              "|---|---|---|---|---|---|"] + rows
        if notes:
            md += ["", "What the shim says about ocamlopt.opt (`OCPREEMPT_LOG=info`):", ""]
            for c, line in notes.items():
                md.append(f"- {c}: `{line}`" if line else f"- {c}: (nothing)")
        self.sections.append(("Start-up", "\n".join(md)))

    def build(self):
        self.overhead()
        self.latency()
        self.fairness()
        self.requests()
        self.cost()
        self.request_path()
        self.startup()
        self.decision()
        self.switchlog()
        self.sites()
        chaos_report(self)

    def target_table(self):
        lines = ["| target | path | measured (median, spread) | target | status |",
                 "|---|---|---|---|---|"]
        for what, cfg, value, target, st in self.targets:
            lines.append(f"| {what} | {cfg} | {value} | {target} | {st} |")
        return "\n".join(lines)

    def markdown(self, plot_rel):
        m = self.meta
        out = ["# ocpreempt benchmarks", "",
               f"Generated by `scripts/bench{m['argv']}` ({m['mode']} sizes, {m['runs']} rounds, "
               f"{m['elapsed_min']:.1f} min). See [docs/benchmarks.md](docs/benchmarks.md) for "
               "what each benchmark does.", "",
               "## Machine", "",
               f"- date: {m['date']}",
               f"- git commit: {m['commit']}",
               f"- shim: `{m['lib']}` (sha256 {m['lib_sha'][:12]})",
               f"- CPUs (nproc): {m['nproc']}; CPU: {m['cpu']}",
               f"- kernel: {m['kernel']}" + (f" (CONFIG_HZ={m['hz']})" if m.get('hz') else ""),
               f"- OCaml: {m['ocaml']}",
               f"- load average at start: {m['loadavg']}"]
        if m.get("startup_from"):        # the start-up section spliced from a later run
            sf = m["startup_from"]
            out.append(f"- the start-up section: a later run (`--only startup`) on commit "
                       f"{sf['commit']} (shim sha256 {sf['lib_sha'][:12]}), {sf['date']}, "
                       f"load average {sf['loadavg']}")
        out += ["",
               "Every figure is measured against its baseline in the same round (configurations "
               "interleaved: A B C A B C ...): the median over rounds, with the spread (min-max, "
               "or the interquartile range for more than 10 samples). The overhead section's "
               "ratios carry their resolution instead, `±h (IQR, rounds)`: h is the half-width "
               "of the median's ~95% interval, and its targets are met, missed or unresolved "
               "from that interval (see Overhead).", "",
               "## Targets", "", self.target_table(), ""]
        if self.reasons:
            out += ["Why each missed target is missed (and each unresolved one unresolved), from "
                    "the figures of this run:", ""]
            out += [f"- **{what}**: {why}." for what, why in self.reasons]
            out += [""]
        if plot_rel:
            out += [f"![latency distributions]({plot_rel})", "",
                    "Complementary distributions (log-log: the fraction of samples above x, so "
                    "the tail is visible; 10^-2 is the p99). Left: preemption latency (request "
                    "to stub entry) of one traced hog+ticker run per configuration. Middle: the "
                    "ticker's gaps in the same runs. Right: response times of the short requests "
                    "in the last round of the request stream. Colours: quantum.", ""]
        for title, md in self.sections:
            out += [f"## {title}", "", md, ""]
        out += ["## Notes", "", NOTES.strip(), ""]
        return "\n".join(out)


NOTES = """
- CPU time is `ru_utime + ru_stime` of the benchmark process (`wait4`), so it includes the
  monitor thread; wall time is the driver's spawn-to-exit time.
- The no-shim baseline runs the program without `LD_PRELOAD`; `disabled` preloads the shim
  with `OCPREEMPT_DISABLE=1`.
- The shim's quantum is a lower bound: a run is counted from an upper bound of its start
  (fiber switches are counted exactly), and the monitor looks when it can first reach the
  quantum; a run ends at most min(Q/64, 200 us) + min(Q/64, 50 us) + timer slack after its
  quantum, plus the preemption's latency (docs/design.md, "The monitor").
- `loaded, never due` is the shim active with a 10 s quantum: the overhead rows over it
  show the mechanism's own cost without the fixed start-up cost (a few ms per process).
- Latency percentiles come from the shim's stats line (`latency_p50_ns`, `latency_p99_ns`,
  `latency_max_ns`, `longest_run_ns`) when present, otherwise from a traced run.
- `alloc` runs with a 1 MB minor heap (`OCAMLRUNPARAM=s=128k`): with the default 2 MB
  minor heap (the size of the L2 cache of the reference machine) its run time is bimodal
  from run to run (about 0.48 or 0.65 s), depending on the address-space layout, which
  swamps the shim's effect; with 1 MB it is stable.
- The benchmarks run one at a time; the machine may be shared, hence ratios per round.
"""


def chaos_report(rep):
    res = rep.d.get("chaos")
    if not res:
        return
    rows, worst = [], None
    nruns = len(next(iter(next(iter(res.values())).values())))
    for w, by in res.items():
        base = by["no shim"]
        rows.append(f"| {w} | no shim | 1 (base: {fmt(median([x['cpu'] for x in base]), 3)} s) "
                    f"| 1 (base: {fmt(median([x['wall'] for x in base]), 3)} s) | |")
        for c, runs in by.items():
            if c == "no shim":
                continue
            cpu = summary(paired(runs, base, lambda a, b: a["cpu"] / b["cpu"]))
            wall = summary(paired(runs, base, lambda a, b: a["wall"] / b["wall"]))
            pre = median([x["stats"].get("preemptions", float("nan")) for x in runs])
            rows.append(f"| {w} | {c}/MiB | {fmt_sum(cpu)} | {fmt_sum(wall)} | {fmt(pre, 0)} |")
            if c == f"chaos {CHAOS_DEFAULT_RATE}" and (worst is None or cpu[0] > worst[1][0]):
                worst = (w, cpu)
    md = [f"Chaos mode (`OCPREEMPT_CHAOS=<round>`, `OCPREEMPT_CHAOS_RATE` per MiB allocated) on "
          f"the overhead workloads ({rep.meta['fibers']} fibers that never yield by "
          f"themselves): CPU and wall time as ratios to the no-shim run of the same round, "
          f"median over {nruns} rounds (min-max), and the chaos preemptions per run. The "
          "clock is allocation: the non-allocating `int` and `float` workloads see almost no "
          "chaos preemption by design (docs/design.md, \"Chaos mode\").", "",
          "| workload | configuration | CPU ratio | wall ratio | preemptions |",
          "|---|---|---|---|---|"] + rows
    rep.sections.append(("Chaos mode", "\n".join(md)))
    if worst:
        w, cpu = worst
        rep.target(f"chaos-mode slowdown at the default rate (worst workload: {w})",
                   f"chaos {CHAOS_DEFAULT_RATE}/MiB", f"{fmt(cpu[0], 2)}x "
                   f"({fmt(cpu[1], 2)}..{fmt(cpu[2], 2)})", f"<= {CHAOS_TARGET:g}x",
                   cpu[0] <= CHAOS_TARGET)
