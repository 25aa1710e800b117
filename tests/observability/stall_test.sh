#!/usr/bin/env bash
# stall_test.sh CASE: the stats section "time where no preemption could help" on
# obs_c_stall, whose one fiber spins SPIN_MS of CPU time either in a C stub (a plain
# external, through caml_c_call; or a [@@noalloc] one) or, the twins, in OCaml code (or
# in OCaml code holding a Mutex.t), beside a fiber that yields, under a hand-rolled
# scheduler preempted at 1 ms. Figures are ratios to SPIN_MS (CPU
# time, so the machine's load does not change them much), never absolute timings.
#
# Environment (set by CMake): T_SHIM T_PROGRAM T_WORK.
set -euo pipefail
case=${1:?case}
rm -rf "$T_WORK" && mkdir -p "$T_WORK" && cd "$T_WORK"
readonly spin_ms=200
readonly c_min_percent=75        # the stub's stall must reach 75% of the spin: 150 ms
readonly ocaml_max_percent=20    # the twin's time "in C" must stay under 20% of it
readonly sleep_max_percent=5     # a noalloc sleep may be charged under 5% of the spin

fail() { printf 'FAIL %s: %s\n' "$case" "$*" >&2; exit 1; }

# run_shim MODE ENV...: stdout to out.txt, stderr to err.txt.
run_shim() {
    local mode=$1
    shift
    env LD_PRELOAD="$T_SHIM" OCPREEMPT_QUANTUM=1ms OCPREEMPT_YIELD=Obs_sched.yield "$@" \
        "$T_PROGRAM" "$mode" "$spin_ms" >out.txt 2>err.txt ||
        { cat err.txt >&2; fail "program exited with $?"; }
    grep -qx 'c_stall: done' out.txt || fail "program output: $(cat out.txt)"
}

section() { sed -n '/^ocpreempt: time where no preemption could help/,$p' err.txt; }

# expect_named FUNCTION ENTRY: the section names C function FUNCTION, entered as ENTRY
# (external or noalloc), called from C_stall, with at least c_min_percent of the spin.
expect_named() {
    local function=$1 entry=$2 line ms
    section | grep -q . || fail "no section 'time where no preemption could help': $(cat err.txt)"
    line=$(section | grep -E "^ocpreempt: +in C $function \\($entry, called from C_stall\\.") ||
        fail "$function ($entry) is not named: $(section)"
    ms=$(sed -E 's/.*\): ([0-9.]+)ms, longest.*/\1/' <<<"$line")
    awk -v ms="$ms" -v want=$((spin_ms * c_min_percent / 100)) 'BEGIN { exit !(ms >= want) }' ||
        fail "$function: ${ms} ms in C, want >= $c_min_percent% of the ${spin_ms} ms spin"
}

case_c_stub_named() {
    run_shim c OCPREEMPT_STATS=1
    expect_named c_stall_spin_cpu external
}

case_c_stub_json() {
    run_shim c OCPREEMPT_STATS="$T_WORK/stats.json" OCPREEMPT_STATS_FORMAT=json
    python3 - "$T_WORK/stats.json" "$spin_ms" "$c_min_percent" <<'PY' || fail "JSON report"
import json, sys
report = json.load(open(sys.argv[1]))["ocpreempt_stats"]
spin_ns, percent = int(sys.argv[2]) * 10**6, int(sys.argv[3])
section = report["no_preemption_could_help"]
stub = [f for f in section["in_c"] if f["function"] == "c_stall_spin_cpu"]
assert stub, f"c_stall_spin_cpu not in {section}"
f = stub[0]
assert f["entry"] == "external" and f["caller"].startswith("C_stall."), f
assert f["total_ns"] * 100 >= spin_ns * percent, f"{f['total_ns']} ns < {percent}% of the spin"
assert f["longest_ns"] <= f["total_ns"] and f["runs"] >= 1, f
PY
}

# A [@@noalloc] external saves no OCaml stack pointer: named from the code before the
# return address its call left below the C stack link, with its OCaml caller.
case_noalloc_named() {
    run_shim noalloc OCPREEMPT_STATS=1
    expect_named c_stall_spin_cpu_noalloc noalloc
}

# Spinning in OCaml while holding a Mutex.t: every request is refused (mutex), and the
# section gives that reason's longest stretch of refused requests; time in C it is not.
case_refused_mutex_longest() {
    run_shim mutex OCPREEMPT_STATS=1
    local ms
    ms=$(section | sed -nE 's/^ocpreempt: +refused \(mutex\): longest stretch ([0-9.]+)ms$/\1/p')
    [[ -n $ms ]] || fail "no longest stretch for the mutex refusals: $(section)"
    awk -v ms="$ms" -v want=$((spin_ms * c_min_percent / 100)) 'BEGIN { exit !(ms >= want) }' ||
        fail "refused (mutex): longest stretch ${ms} ms, want >= $c_min_percent% of ${spin_ms} ms"
    ! section | grep -q '^ocpreempt: +in C ' || fail "the locked OCaml spin counted as C: $(section)"
}

case_ocaml_twin_not_c() {
    run_shim ocaml OCPREEMPT_STATS=1
    section | grep -q . || fail "no section 'time where no preemption could help': $(cat err.txt)"
    local preempted in_c refused
    preempted=$(grep -m1 '^ocpreempt: stats:' err.txt | tr ' ' '\n' | sed -n 's/^preemptions=//p')
    ((preempted > 0)) || fail "the OCaml spin was never preempted: $(cat err.txt)"
    ! section | grep -q 'c_stall_spin_cpu' || fail "the OCaml spin is named as the C stub: $(section)"
    # A request can be refused now and then (one landing in the yield function itself,
    # in_yield), but no stretch of refusals may be a sizeable part of the spin either.
    refused=$(section | sed -nE 's/^ocpreempt: +refused \(.*\): longest stretch ([0-9.]+)ms$/\1/p' |
              awk '{ if ($1 > m) m = $1 } END { print m + 0 }')
    awk -v ms="$refused" -v max=$((spin_ms * ocaml_max_percent / 100)) 'BEGIN { exit !(ms < max) }' ||
        fail "the OCaml spin's requests were refused for ${refused} ms in a row: $(section)"
    in_c=$(section | sed -nE 's/^ocpreempt: +in C .*: ([0-9.]+)ms, longest.*/\1/p' |
           awk '{ s += $1 } END { print s + 0 }')
    awk -v ms="$in_c" -v max=$((spin_ms * ocaml_max_percent / 100)) 'BEGIN { exit !(ms < max) }' ||
        fail "the OCaml spin counted ${in_c} ms in C: $(section)"
}

# Three fibers: 6 ms noalloc spins, each followed by a 3 ms noalloc call: the stats charge
# a C function only the CPU time of intervals it was in at both ends (adversary F8: the
# sleep was charged the spin's CPU; 23 ms of this program's 200 on 6cf3fce). spin_sleep:
# the sleep, which uses no CPU, is charged under sleep_max_percent of the spin (or not
# named at all), the spin is named. spin_spin (the twin): the second call spins, and is
# charged more than that by the same check.
charged_ms() {   # charged_ms FUNCTION: the CPU time the section charges FUNCTION, or 0
    section | sed -nE "s/^ocpreempt: +in C $1 \\(noalloc, .*\\): ([0-9.]+)ms, longest.*/\\1/p" |
        awk '{ s += $1 } END { print s + 0 }'
}

case_noalloc_sleep_not_charged() {
    run_shim spin_sleep OCPREEMPT_STATS=1
    local sleep spin
    sleep=$(charged_ms c_stall_sleep_noalloc)
    spin=$(charged_ms c_stall_spin_cpu_noalloc)
    awk -v ms="$sleep" -v max=$((spin_ms * sleep_max_percent / 100)) 'BEGIN { exit !(ms < max) }' ||
        fail "the noalloc sleep was charged ${sleep} ms of CPU: $(section)"
    awk -v ms="$spin" 'BEGIN { exit !(ms > 0) }' || fail "the noalloc spin is not named: $(section)"
}

case_noalloc_sleep_not_charged_twin() {
    run_shim spin_spin OCPREEMPT_STATS=1
    local again
    again=$(charged_ms c_stall_spin_again_noalloc)
    awk -v ms="$again" -v min=$((spin_ms * sleep_max_percent / 100)) 'BEGIN { exit !(ms >= min) }' ||
        fail "the second spin was charged only ${again} ms: the check would not bite: $(section)"
}

"case_$case"
