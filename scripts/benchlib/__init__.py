"""benchlib: the parts of scripts/bench (docs/benchmarks.md), one concern per module.

Lower modules never import higher ones:
  common     paths (the source tree, the OCaml toolchain), BenchError, log
  configs    sizes, quanta, the named configurations and the OCPREEMPT_* variables each sets
  stats      median, quantiles, (median, low, high) summaries, round-paired ratios
  runner     running one program (CPU from wait4, wall time) and parsing its output
  build      building the shim and the benchmark programs (cmake)
  workloads  the benchmarks: each configuration interleaved round by round, into raw data
  report     the markdown report and the target table, from raw data only
  plot       latency.png (gnuplot), from raw data and the traces beside it
  cli        the command: arguments, build, run, write raw.json, render; --rerender
Invariant: the report and the plot are functions of raw.json (and the trace, gap and
response files written beside it): `--rerender` on the same results rewrites the same
report, byte for byte.
"""
