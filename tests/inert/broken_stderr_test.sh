#!/usr/bin/env bash
# broken_stderr_test.sh: a line from the shim must never change the program's fate. With
# stderr a pipe whose reader has gone (a log collector that exited), the shim's warning at
# start-up and its statistics at exit fail with EPIPE; they must not kill the program with
# SIGPIPE. Each run must end as the same program does without the shim: same exit status,
# same stdout. Environment: T_SHIM, T_PROGRAM (OCaml 5.3, Sched_demo.yield), T_HELPER
# (broken_stderr.py: runs a command with such a stderr, prints "rc=N" and its stdout).
set -uo pipefail
type -P python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$T_HELPER" "$T_PROGRAM" >"$work/plain.out"
grep -q '^rc=0 ' "$work/plain.out" || { echo "FAIL: without the shim: $(cat "$work/plain.out")"; exit 1; }

check() {   # check LABEL ENV...
    local label=$1
    shift
    env LD_PRELOAD="$T_SHIM" "$@" python3 "$T_HELPER" "$T_PROGRAM" >"$work/shim.out"
    cmp -s "$work/plain.out" "$work/shim.out" ||
        { echo "FAIL $label: $(cat "$work/shim.out"), without the shim: $(cat "$work/plain.out")"; exit 1; }
}

# The shim speaks in each of these (checked with a working stderr first, so that a run that
# printed nothing cannot pass for a fixed one).
assert_speaks() {   # assert_speaks LABEL ENV...
    local label=$1
    shift
    env LD_PRELOAD="$T_SHIM" "$@" "$T_PROGRAM" 2>&1 >/dev/null | grep -q '^ocpreempt: ' ||
        { echo "FAIL $label: the shim said nothing even with a working stderr"; exit 1; }
}

assert_speaks "warning at start-up" OCPREEMPT_YIELD=Nope.yield
check "warning at start-up" OCPREEMPT_YIELD=Nope.yield
assert_speaks "bad value" OCPREEMPT_QUANTUM=1
check "bad value" OCPREEMPT_QUANTUM=1
assert_speaks "statistics at exit" OCPREEMPT_STATS=1 OCPREEMPT_YIELD=Sched_demo.yield
check "statistics at exit" OCPREEMPT_STATS=1 OCPREEMPT_YIELD=Sched_demo.yield OCPREEMPT_LOG=info
echo "ok: no SIGPIPE from the shim's lines"
