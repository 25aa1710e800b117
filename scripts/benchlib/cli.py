"""The command (scripts/bench): its arguments, then build, run the chosen sections, write
raw.json and render (plot + report + the tables on stdout); or, with --rerender, render
again from DIR/raw.json without running anything.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

from benchlib.build import build
from benchlib.common import ENGINE, OCAMLOPT, ROOT, BenchError, log
from benchlib.configs import SECTIONS
from benchlib.plot import plot
from benchlib.report import Report
from benchlib.workloads import Suite, chaos_section


HELP_EPILOG = """\
sections (--only, comma-separated; default all):
  overhead   CPU-bound fibers (int, alloc, float, gc workloads, >= 2 s of CPU each) without
             the shim, with it disabled, loaded and never due, and at 10ms/1ms/100us: CPU and
             wall time as ratios to the no-shim run of the same round, each with its
             resolution (median +-1.58 IQR/sqrt(n)); rounds are added until every target
             ratio is resolved or --overhead-budget is spent; the shim's own cost (monitor
             CPU, hook time) beside each row, over the floor of the same rounds; preemption
             latency (request to stub entry) from the shim's stats of the same runs
  fairness   a hog beside a ticker fiber: the ticker's gaps; the same in two domains;
             traced runs for the plot and the wall-clock cross-check of the latency
  requests   open-loop request stream (short requests among a few long ones, a fiber
             each): p50/p99 response times without the shim, with it, with systhreads
             (a Thread per request) and with hand-inserted yields
  cost       CPU per preemption at 100us against the CPU of one voluntary yield
             (needs overhead)
  floor      a bare C thread waking once per quantum: what one wake costs here (the
             "Request path" section puts idle cost, monitor CPU, run lengths, the
             cooperative comparison, the mutator's cost and two domains against it)
  startup    CPU, wall time and peak RSS of process start-up with and without the shim:
             a small program (also start to main), ocamlopt.opt -version (loaded but
             disabled, nothing to preempt, active) and /bin/true (not OCaml)
  switchlog  the switch trampoline's cost per voluntary yield (the yield loop alone; with
             the shim, stats off: switches counted; stats on: each switch also logged
             for per-fiber accounting), as ratios to one voluntary yield without the shim
  decision   the cost of one landing decision (critical extents: the walk of the fiber's
             stack) against the stack's depth, the hog still at the bottom or moving
  sites      the longest run without yielding (stats longest_run_ns) of the CPU-bound
             workloads under each OCPREEMPT_SITES policy (poll, loop, all), monitor 1ms
  chaos      chaos mode (OCPREEMPT_CHAOS) on the overhead workloads at the default rate
             (64 per MiB allocated) and at 1024 per MiB: CPU and wall time as ratios to
             the no-shim run of the same round, and the preemptions per run

Targets (shown in the table, not asserted; the overhead section's met, missed or
unresolved from the median's interval, never from the median alone): overhead <= 1% at 10ms, <= 2% at 1ms, <= 5%
at 100us; CPU while idle <= 0.1% at every quantum; uninterrupted run p50 <= 1.1 Q and p99
<= Q + 1 ms at 10ms and 1ms; gc workload <= +3% (1ms) / +10% (100us) over the program
yielding cooperatively at the same rate; latency p99 <= 50us; short-request p99 <= 30ms at
10ms; CPU per preemption <= 10x a voluntary yield, the mutator's own share <= 3x;
load-time analysis <= 50ms on ocamlopt.opt; a process with nothing to preempt
(ocamlopt.opt -version) <= +1 ms CPU and <= +1.5 MiB peak RSS; chaos-mode slowdown
<= 10x at the default rate.

Exit status: 0 report written (targets may be missed), 1 a benchmark or the build failed,
2 bad arguments.
"""


def machine_meta(lib):
    def sh(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return ""
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    hz = ""
    try:
        import gzip
        with gzip.open("/proc/config.gz", "rt") as f:
            for line in f:
                if line.startswith("CONFIG_HZ="):
                    hz = line.strip().split("=")[1]
    except (OSError, ImportError):
        try:
            for line in open(f"/boot/config-{platform.release()}"):
                if line.startswith("CONFIG_HZ="):
                    hz = line.strip().split("=")[1]
        except OSError:
            pass
    commit = sh("git", "rev-parse", "--short=12", "HEAD") or "unknown"
    if sh("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    with open(lib, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    ocaml = sh(OCAMLOPT, "-version") if os.access(OCAMLOPT, os.X_OK) else "unknown"
    return {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "commit": commit, "nproc": os.cpu_count(), "cpu": cpu,
            "kernel": f"{platform.system()} {platform.release()}", "hz": hz,
            "ocaml": ocaml, "lib_sha": sha,
            "loadavg": " ".join(open("/proc/loadavg").read().split()[:3])}


def render(data, args, meta, outdir, report_path):
    png = os.path.join(outdir, "latency.png")
    plot(outdir, data, png)
    rep = Report(data, args, meta)
    rep.build()
    rel = os.path.relpath(png, os.path.dirname(report_path))
    md = rep.markdown(rel)
    if os.path.dirname(report_path) != ROOT:
        md = md.replace("](docs/benchmarks.md)", f"]({os.path.relpath(os.path.join(ROOT, 'docs', 'benchmarks.md'), os.path.dirname(report_path))})")
    with open(report_path, "w") as f:
        f.write(md)
    print("## Targets\n")
    print(rep.target_table())
    for what, why in rep.reasons:
        print(f"- {what}: {why}.")
    for title, sec in rep.sections:
        print(f"\n## {title}\n")
        print("\n".join(l for l in sec.splitlines() if l.startswith("|")))
    print(f"\nreport: {report_path}\nplot: {png}")
    return 0


def main(doc):
    ap = argparse.ArgumentParser(
        prog="scripts/bench", description=doc.split("\n\n")[0].split(": ", 1)[1],
        epilog=HELP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test; figures are meaningless)")
    ap.add_argument("--runs", type=int, metavar="N", help="rounds per benchmark (default 9, 2 with --quick)")
    ap.add_argument("--overhead-budget", type=float, metavar="MIN",
                    help="the overhead section's budget in minutes, which no round but the "
                         "first overruns: after its minimum rounds (5; --runs if given) it "
                         "adds rounds until every target ratio is resolved or this is spent "
                         "(default 15, 0.5 with --quick)")
    ap.add_argument("--out", metavar="DIR", default=os.path.join(ROOT, "bench", "results"),
                    help="where BENCHMARKS.md, latency.png, raw.json and traces go (default bench/results)")
    ap.add_argument("--report", metavar="FILE", help="write the report here instead of DIR/BENCHMARKS.md")
    ap.add_argument("--build", metavar="DIR", default=os.path.join(ROOT, "build"),
                    help="CMake build tree (default build/)")
    ap.add_argument("--no-build", action="store_true", help="use what is already built")
    ap.add_argument("--only", metavar="LIST", help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--rerender", action="store_true",
                    help="run nothing: redraw the plot and rewrite the report from DIR/raw.json")
    args = ap.parse_args()
    if args.runs is not None and args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.overhead_budget is not None and not args.overhead_budget >= 0:
        ap.error("--overhead-budget must be a number of minutes >= 0")
    only = SECTIONS if not args.only else args.only.split(",")
    for s in only:
        if s not in SECTIONS:
            ap.error(f"unknown section {s!r} (sections: {', '.join(SECTIONS)})")
    if "cost" in only and "overhead" not in only:
        only = ["overhead"] + only
    args.build = os.path.abspath(args.build)
    outdir = os.path.abspath(args.out)
    os.makedirs(outdir, exist_ok=True)
    report_path = os.path.abspath(args.report) if args.report else os.path.join(outdir, "BENCHMARKS.md")
    t_start = time.time()
    if args.rerender:
        try:
            with open(os.path.join(outdir, "raw.json")) as f:
                raw = json.load(f)
            return render(raw["data"], args, raw["meta"], outdir, report_path)
        except (OSError, ValueError, KeyError) as e:
            log(f"error: cannot rerender from {outdir}/raw.json: {e}")
            return 1
        except BenchError as e:
            log(f"error: {e}")
            return 1
    workdir = tempfile.mkdtemp(prefix="ocpreempt-bench-")
    try:
        lib_built, bindir = build(args)
        # A private copy: other builds of the tree during the run must not change the shim.
        # The front (libocpreempt.so) loads the engine from its own directory.
        lib = os.path.join(workdir, "libocpreempt.so")
        shutil.copy2(lib_built, lib)
        shutil.copy2(os.path.join(os.path.dirname(lib_built), ENGINE), workdir)
        meta = machine_meta(lib)
        meta["lib"] = os.path.relpath(lib_built, ROOT)
        suite = Suite(args, lib, bindir, outdir, workdir)
        meta.update(mode="quick" if args.quick else "full", runs=suite.runs,
                    fibers=suite.size["fibers"],
                    argv=("" if len(sys.argv) == 1 else " " + " ".join(sys.argv[1:])))
        log(f"{meta['mode']} sizes, {suite.runs} rounds, results in {outdir}")
        for s in SECTIONS:
            if s == "chaos" and s in only:
                chaos_section(suite)
            elif s in only and s != "cost":
                getattr(suite, s)()
        meta["elapsed_min"] = (time.time() - t_start) / 60
        with open(os.path.join(outdir, "raw.json"), "w") as f:
            json.dump({"meta": meta, "data": suite.data}, f, indent=1)
        return render(suite.data, args, meta, outdir, report_path)
    except BenchError as e:
        log(f"error: {e}")
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
