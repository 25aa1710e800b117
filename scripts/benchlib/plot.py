"""latency.png: complementary distributions (log-log) of the preemption latency and the
ticker's gaps of the traced runs, and of the short requests' response times, drawn by
gnuplot from the files the workloads left beside raw.json.
"""
import os
import shutil
import subprocess
import tempfile

from benchlib.common import BenchError
from benchlib.configs import ACTIVE
from benchlib.runner import read_trace_latencies


def plot(outdir, data, png):
    gp = shutil.which(os.environ.get("GNUPLOT", "gnuplot"))
    if not gp:
        raise BenchError("gnuplot not found (GNUPLOT=/path/to/gnuplot)")
    tmp = tempfile.mkdtemp(prefix="bench-plot-")
    try:
        def cdf_file(name, values):
            """Complementary CDF: x, fraction of the samples greater than x."""
            values = sorted(values)
            f = os.path.join(tmp, name)
            n = len(values)
            with open(f, "w") as o:
                step = max(1, n // 4000)
                idx = list(range(0, n, step))
                if n and idx[-1] != n - 1:
                    idx.append(n - 1)
                for i in idx:
                    o.write(f"{values[i]} {max((n - 1 - i) / n, 1e-4)}\n")
            return f, n
        panels = []
        traced = data.get("traced", {})
        lat, gap = [], []
        for c in ACTIVE:
            t = traced.get(c)
            if not t:
                continue
            v = [x / 1e3 for x in read_trace_latencies(os.path.join(outdir, t["trace"])) if x > 0]
            f, n = cdf_file(f"lat-{c.replace(' ', '-')}", v)
            if n:
                lat.append((f, c))
            g = [float(l) / 1e3 for l in open(os.path.join(outdir, t["gaps"])) if l.strip()]
            f, n = cdf_file(f"gap-{c.replace(' ', '-')}", [x for x in g if x > 0])
            if n:
                gap.append((f, c))
        resp = []
        if "requests" in data:
            for c in data["requests"]["runs"]:
                p = os.path.join(outdir, f"resp-{c.replace(' ', '-')}.txt")
                if os.path.exists(p):
                    v = [float(l.split()[1]) for l in open(p) if l.startswith("s ")]
                    f, n = cdf_file(f"resp-{c.replace(' ', '-')}", [max(x, 1e-3) for x in v])
                    if n:
                        resp.append((f, c))
        def style(name):
            # Colour by quantum, dashes by request path; the references in black/grey.
            colours = {"10ms": "#d62728", "1ms": "#2ca02c", "100us": "#1f77b4"}
            if name in ACTIVE:
                path, q = name.split()
                return f"lw 2 lc rgb '{colours[q]}' dt {1 if path == 'monitor' else 2}"
            return {"no shim": "lw 2 lc rgb '#000000'", "systhreads": "lw 2 lc rgb '#ff7f0e'",
                    "cooperative": "lw 2 lc rgb '#9467bd' dt 4"}.get(name, "lw 2")
        def panel(title, xlabel, series):
            if not series:
                return (f"set title '{title} (no data)'\nunset logscale\nset xrange [0:1]\n"
                        "set yrange [0:1]\nplot 2 notitle\n")
            s = [f"set title '{title}'", f"set xlabel '{xlabel}'",
                 "set ylabel 'fraction of samples above x'", "set logscale xy",
                 "set format y '10^{%L}'", "set yrange [5e-4:1.2]", "set autoscale x",
                 "set key bottom left"]
            s.append("plot " + ", ".join(f"'{f}' using 1:2 with steps {style(t)} title '{t}'"
                                         for f, t in series))
            return "\n".join(s) + "\n"
        script = ["set terminal pngcairo size 1800,600 font 'sans,10'" if terminal_ok(gp, "pngcairo")
                  else "set terminal png size 1800,600",
                  f"set output '{png}'", "set grid", "set multiplot layout 1,3"]
        script.append(panel("preemption latency (request to stub entry)", "us", lat))
        script.append(panel("ticker gaps beside a hog", "ms", gap))
        script.append(panel("short-request response time", "ms", resp))
        script.append("unset multiplot")
        sf = os.path.join(tmp, "plot.gp")
        with open(sf, "w") as f:
            f.write("\n".join(script) + "\n")
        r = subprocess.run([gp, sf], capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(png):
            raise BenchError(f"gnuplot failed: {r.stderr[-2000:]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def terminal_ok(gp, term):
    r = subprocess.run([gp, "-e", "set terminal"], capture_output=True, text=True)
    return term in (r.stdout + r.stderr)
