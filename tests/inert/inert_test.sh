#!/usr/bin/env bash
# inert_test.sh PROGRAM [ARGS...]: the shim must be inert and silent in a process that is
# not an OCaml 5.3 native executable, even when asked for stats and given a configuration
# it would reject: same stdout, same exit status, and nothing at all on stderr.
# Environment: T_SHIM (libocpreempt.so).
set -uo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$@" >"$work/plain.out" 2>"$work/plain.err"
plain_status=$?

check() {   # check LABEL ENV...: one run with the shim preloaded
    local label=$1
    shift
    env LD_PRELOAD="$T_SHIM" "$@" "${program[@]}" >"$work/shim.out" 2>"$work/shim.err"
    local status=$?
    ((status == plain_status)) || { echo "FAIL $label: exit $status, without the shim $plain_status"; exit 1; }
    cmp -s "$work/plain.out" "$work/shim.out" || { echo "FAIL $label: stdout differs"; exit 1; }
    cmp -s "$work/plain.err" "$work/shim.err" ||
        { echo "FAIL $label: stderr differs:"; cat "$work/shim.err"; exit 1; }
}

program=("$@")
check "stats asked" OCPREEMPT_STATS=1 OCPREEMPT_YIELD=Sched.yield OCPREEMPT_LOG=info
check "bad configuration" OCPREEMPT_QUANTUM=5xs OCPREEMPT_STATS=1
check "misspelt variable" OCPREEMPT_QUANTUMM=2ms
echo "ok: ${program[0]##*/} is left alone"
