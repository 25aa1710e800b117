# shellcheck shell=bash disable=SC2034,SC2154  # globals shared between the parts: see each header
# ocpreempt launcher: the --help text, for every subcommand at once (`ocpreempt --help`,
# `run --help` and `stress --help` print the same text). Sourced by scripts/ocpreempt.
# Invariants: it names every OCPREEMPT_* variable the shim's parser knows (the launcher
# test help_lists_all_variables holds it to `ocpreempt-checkenv --list`, as
# docs_list_all_variables holds docs/configuration.md); docs/launcher.md says the same at
# length.

print_help() {
    cat <<'EOF'
usage: ocpreempt run [OPTIONS] -- PROGRAM [ARGS...]
       ocpreempt stress [--runs N] [--seed S] [--chaos-rate R] [--timeout T] [--shrink]
                        [--junit FILE] [--shard I/N] [RUN OPTIONS] -- PROGRAM [ARGS...]
       ocpreempt probe PROGRAM [PROBE ARGS...]
       ocpreempt cache path | clear | --help
       ocpreempt --help | --version

ocpreempt run starts PROGRAM with libocpreempt.so preloaded, so that the fibers of an
OCaml 5 program are preempted after a time quantum, without recompiling it. The program
replaces the launcher (exec): its exit status and signals are passed through unchanged.
Each option sets the OCPREEMPT_* variable named after it; a value given as an option
overrides the same variable from the environment.

run options (a value may also be given as --option=VALUE):
  --quantum D          OCPREEMPT_QUANTUM: time slice, e.g. 10ms, 500us, 1s, 100000ns
                       (default 10ms, minimum 100us, maximum 10s)
  --yield Module.fn    OCPREEMPT_YIELD: OCaml function that yields the running fiber,
                       e.g. Sched.yield (default: auto-detect)
  --stats              OCPREEMPT_STATS=1: statistics on stderr at exit
  --stats=FILE         OCPREEMPT_STATS=FILE: statistics appended to FILE
  --json               OCPREEMPT_STATS_FORMAT=json (turns --stats on if it is off)
  --trace FILE         OCPREEMPT_TRACE=FILE: one line per preemption (ocpreempt-plot)
  --trace-format F     OCPREEMPT_TRACE_FORMAT=F: text (default) or chrome (trace-event JSON
                       for Perfetto and chrome://tracing, written at exit to FILE with
                       the process id inserted: t.json -> t.<pid>.json; docs/trace.md)
  --deny LIST          OCPREEMPT_DENY: units/libraries a preemption never lands in;
                       +A,B adds to the default
  --critical LIST      OCPREEMPT_CRITICAL: Module.fn or Module entries during which,
                       callees included, a fiber is never preempted
  --sites MODE         OCPREEMPT_SITES: poll, loop or all (default): which safe points a
                       preemption may use
  --chaos SEED         OCPREEMPT_CHAOS: chaos mode, preemptions at seeded pseudo-random
                       safe points instead of after a quantum (replayable); SEED:LIST
                       performs only the preemptions numbered in LIST (e.g. 42:3,7-9)
  --chaos-rate R       OCPREEMPT_CHAOS_RATE: chaos preemptions per MiB allocated, mean
                       (default 64, 1..65536)
  --log LEVEL          OCPREEMPT_LOG: quiet, warn (default), info or debug
  --strict             OCPREEMPT_STRICT=1: a bad configuration stops here (exit 2)
                       instead of running PROGRAM without preemption
  --assume-runtime S   OCPREEMPT_ASSUME_RUNTIME: run a program of an OCaml release
                       without a runtime profile (e.g. 5.4) on profile S (e.g. 5.3),
                       only where its DWARF and code pass every check of S
  -h, --help           this text

ocpreempt stress runs PROGRAM N times in chaos mode with seeds S, S+1, ... (docs/ci.md).
A run fails on a non-zero exit status, a crash (a signal) or the timeout; at the first
failure it prints the seed, the run's last output lines, its preemption points in order
and the command that replays it, and exits 1. All runs passing: exit 0.
  --runs N             number of runs (default 100)
  --seed S             first seed (default 1)
  --chaos-rate R       as for run (default 64 per MiB)
  --timeout T          per run: seconds, or with a unit s, m, h (default 60s)
  --shrink             after a failure, replay subsets of its preemptions until a
                       minimal set that still fails the same way is found (at most 200
                       replays), and print it with its replay command
  --junit FILE         also write the runs as a JUnit XML report (one testcase per
                       seed; a failure holds its report and replay command; runs not
                       done are listed as skipped), replaced whole when stress ends
  --shard I/N          make only shard I of N (1 <= I <= N) of the runs: of seeds S+k,
                       k = 0 .. runs-1, those with k mod N = I-1 (N CI jobs, one shard
                       each, run every seed once)
  RUN OPTIONS          passed to each run: --yield, --deny, --log, --strict, ...
                       (not --chaos, --trace, --trace-format, --stats, --json: stress sets those)
Exit status of stress: 0 all runs passed, 1 a run failed, 2 usage error.

ocpreempt probe PROGRAM runs ocpreempt-probe on PROGRAM: can it be preempted, and how.

ocpreempt cache path prints the folder of the analysis cache (the start-up analysis of
each program, kept so that later starts skip it); ocpreempt cache clear empties it.

Environment (the shim reads these; docs/configuration.md has the details):
  OCPREEMPT_QUANTUM       duration: 10ms, 500us, 1s, 100000ns (default 10ms; 100us..10s)
  OCPREEMPT_YIELD         Module.fn, a dotted OCaml path (default empty: auto-detect)
  OCPREEMPT_STATS         0 off (default), 1 stderr, or a file path (appended to)
  OCPREEMPT_STATS_FORMAT  text|json (default text)
  OCPREEMPT_TRACE         file path (appended to), empty = no trace (default)
  OCPREEMPT_TRACE_FORMAT  text (default) or chrome
  OCPREEMPT_LOG           quiet|warn|info|debug (default warn: only problems)
  OCPREEMPT_STRICT        0|1 (default 0)
  OCPREEMPT_DISABLE       0|1: 1 turns the shim off (default 0)
  OCPREEMPT_DENY          units or libraries never preempted in, comma-separated; +A,B
                          adds to the default list, A,B replaces it, none empties it
  OCPREEMPT_CRITICAL      Module.fn or Module entries: never preempted while running,
                          callees included (added to the built-in critical extents)
  OCPREEMPT_SITES         poll|loop|all (default all): poll sites only; also allocations
                          that are a loop's only safe points; every allocation too
  OCPREEMPT_CHAOS         SEED or SEED:LIST: chaos mode (default empty: normal mode)
  OCPREEMPT_CHAOS_RATE    chaos preemptions per MiB allocated, 1..65536 (default 64)
  OCPREEMPT_SELF_CLOCK    0|1 (default 0, the monitor alone, once per quantum); 1: allocating
                          fibers check their own deadline and the monitor backs off
  OCPREEMPT_VERIFY        0|1: check every landing decision against a plain walk of the
                          whole fiber, abort on a disagreement (tests; default 0)
  OCPREEMPT_ASSUME_RUNTIME  a release series (5.3): run a release without a runtime
                          profile on that profile where its DWARF agrees (default empty)
  OCPREEMPT_ANALYSIS_CACHE  off, or a folder: where the start-up analysis is kept
                          (default $XDG_CACHE_HOME/ocpreempt/analysis, else
                          ~/.cache/ocpreempt/analysis; ocpreempt cache)
  OCPREEMPT_LIB           path of libocpreempt.so to preload (launcher only)
An empty value is the same as an unset variable. Any other OCPREEMPT_* name is an error.

Files: --trace and --stats=FILE must be regular files you own (or not exist yet); a
symbolic link or a device is refused. The launcher empties them first, then every
process of the run appends to them. A relative path is made absolute.

Exit status:
  the program's    PROGRAM's own exit status, or the signal that terminated it
  2                launcher error before PROGRAM started: bad option or value, bad
                   environment with --strict, library or helper not found, refused file
  126, 127         PROGRAM is not executable, or not found
Without --strict a bad OCPREEMPT_* value in the environment is reported on one line and
PROGRAM runs without the shim (the shim would have disabled itself anyway).
EOF
}
