"""What every part of the benchmark shares: where the source tree and the OCaml toolchain
are, the programs it relies on, the one error type and the log line.
"""
import os
import sys


# scripts/benchlib/common.py -> the source tree's root
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
OCAML_CACHE = os.environ.get("OCPREEMPT_CACHE") or os.path.expanduser("~/.cache/ocpreempt")
OCAMLOPT = os.path.join(OCAML_CACHE, "ocaml-5.3.0", "bin", "ocamlopt.opt")

ENGINE = "libocpreempt-engine.so"   # beside libocpreempt.so (shim/base/front_api.h)
TIME_PROGRAM = "/usr/bin/time"  # GNU time: the program's own peak RSS (%M)


class BenchError(Exception):
    pass


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)
