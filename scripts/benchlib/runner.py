"""Running one benchmark program: with or without the shim preloaded (an OCPREEMPT_*
configuration), its CPU time from wait4 (all threads), its wall time, and what it printed:
the program's `bench: key=value` line and the shim's `ocpreempt: stats:` line. Also what
raw.json keeps of a run (slim) and the latencies of a trace file.
"""
import os
import subprocess
import tempfile
import threading
import time

from benchlib.common import BenchError


class Runner:
    def __init__(self, lib, workdir):
        self.lib = lib
        self.workdir = workdir
        self.base_env = {k: v for k, v in os.environ.items()
                         if not k.startswith("OCPREEMPT_")
                         and k not in ("LD_PRELOAD", "OCAMLRUNPARAM", "CAMLRUNPARAM")}

    def env_for(self, config):
        """config: None (no shim), or a dict of OCPREEMPT_* variables (shim preloaded)."""
        env = dict(self.base_env)
        env.pop("OCAMLRUNPARAM", None)
        if config is not None:
            env["LD_PRELOAD"] = self.lib
            env.update(config)
        return env

    def run(self, argv, config, expect_stats=False, timeout=300, extra_env=None, ok_status=(0,)):
        out = tempfile.TemporaryFile(dir=self.workdir)
        err = tempfile.TemporaryFile(dir=self.workdir)
        env = self.env_for(config)
        env.update(extra_env or {})
        t_wall = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        t1 = time.perf_counter()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode == -9 and time.perf_counter() - t0 >= timeout:
            raise BenchError(f"timeout after {timeout}s: {' '.join(argv)}")
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        out.close()
        err.close()
        if proc.returncode not in ok_status:
            raise BenchError(f"exit status {proc.returncode}: {' '.join(argv)} "
                             f"[{env_desc(config)}]\n{stderr[-2000:]}")
        res = {"cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime, "sys": ru.ru_stime,
               "wall": t1 - t0, "t_start": t_wall, "stdout": stdout,
               "bench": parse_bench(stdout), "stats": parse_stats(stderr)}
        if expect_stats and not res["stats"]:
            raise BenchError(f"the shim printed no stats (did it disable itself?): "
                             f"{' '.join(argv)} [{env_desc(config)}]\n{stderr[-2000:]}")
        return res


def env_desc(config):
    if config is None:
        return "no shim"
    return " ".join(f"{k}={v}" for k, v in sorted(config.items()))


def parse_bench(stdout):
    d = {}
    for line in stdout.splitlines():
        if line.startswith("bench: "):
            for kv in line[7:].split():
                k, _, v = kv.partition("=")
                try:
                    d[k] = float(v)
                except ValueError:
                    d[k] = v
    return d


def parse_stats(stderr):
    """The first `ocpreempt: stats: key=value ...` line, as a dict of numbers."""
    for line in stderr.splitlines():
        if line.startswith("ocpreempt: stats:"):
            d = {}
            for kv in line[len("ocpreempt: stats:"):].split():
                k, _, v = kv.partition("=")
                try:
                    d[k] = float(v)
                except ValueError:
                    pass
            return d
    return {}


def slim(x):
    """What raw.json keeps of one run."""
    return {k: x[k] for k in ("cpu", "user", "sys", "wall", "bench", "stats")}


def read_trace_latencies(path):
    lat = []
    try:
        with open(path) as f:
            for line in f:
                if not line.strip() or line.startswith("#"):
                    continue
                fields = line.rstrip("\n").split("\t")
                if len(fields) >= 4 and fields[3].isdigit():
                    lat.append(int(fields[3]))
    except OSError:
        pass
    return sorted(lat)
