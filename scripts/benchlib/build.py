"""Building what the benchmark runs: libocpreempt.so (and its engine) and the benchmark
programs of bench/, in the build tree or, where it has no bench targets, in a standalone
build of bench/.
"""
import os
import subprocess
import time

from benchlib.common import ROOT, BenchError, log


def build(args):
    """Builds libocpreempt.so and the bench programs; returns (lib, bench_bin_dir)."""
    bdir = args.build
    def cmake_build(d, target):
        for attempt in range(3):
            r = subprocess.run(["cmake", "--build", d, "--target", target, "-j2"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode == 0:
                return
            log(f"build of {target} failed (attempt {attempt + 1}/3)")
            if attempt < 2:
                time.sleep(20)
        raise BenchError(f"cmake --build {d} --target {target} failed:\n{r.stdout[-3000:]}")

    if not os.path.isfile(os.path.join(bdir, "CMakeCache.txt")) and not args.no_build:
        log(f"configuring {bdir}")
        r = subprocess.run(["cmake", "-S", ROOT, "-B", bdir], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise BenchError(f"cmake configure failed:\n{r.stdout[-3000:]}")
    if not args.no_build:
        cmake_build(bdir, "ocpreempt")
    lib = os.path.join(bdir, "shim", "libocpreempt.so")
    if os.path.isdir(os.path.join(bdir, "bench", "CMakeFiles")):
        bench_dir = os.path.join(bdir, "bench")
        if not args.no_build:
            cmake_build(bdir, "bench_programs")
    else:
        # The build tree has no bench/ (no add_subdirectory(bench) yet): bench/ on its own.
        bench_dir = os.path.join(bdir, "bench-standalone")
        if not os.path.isfile(os.path.join(bench_dir, "CMakeCache.txt")) and not args.no_build:
            r = subprocess.run(["cmake", "-S", os.path.join(ROOT, "bench"), "-B", bench_dir],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                raise BenchError(f"cmake -S bench failed:\n{r.stdout[-3000:]}")
        if not args.no_build:
            cmake_build(bench_dir, "bench_programs")
    for f in [lib] + [os.path.join(bench_dir, p)
                      for p in ("bench_fib", "bench_thr", "bench_hello", "bench_deep")]:
        if not os.path.isfile(f):
            raise BenchError(f"{f} was not built")
    return lib, bench_dir
