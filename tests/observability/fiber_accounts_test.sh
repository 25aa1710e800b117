#!/usr/bin/env bash
# fiber_accounts_test.sh CASE: per-fiber accounting (issue 19) on obs_fiber_names, a
# hand-rolled scheduler whose fibers are started by the functions marked FIBER-* in its
# source. Environment (set by CMake): T_SHIM T_PROGRAM T_SOURCE T_CHECK T_WORK.
#   names       the stats name the ticker (never preempted), the three workers (one group
#               of three) and the hog (preempted) by those functions and lines
#   names_twin  the program starts its ticker from another function: the same check fails
#   callback    a fiber that runs inside a C-to-OCaml callback is named by the function
#               that started it
#   callback_twin  no group is named after the callback's function (the check bites)
# And on the ecosystem programs (tests/ecosystem: T_PROGRAM an eco_<scheduler>, T_YIELD its
# yield), `fair` case: EXPECTATION... are check_fiber_names.py's, with the sources' markers:
#   eco EXPECTATION...         the check passes
#   eco_twin EXPECTATION...    the check fails (expectations that name a fiber wrongly)
set -euo pipefail
case=${1:?case}
shift
rm -rf "$T_WORK" && mkdir -p "$T_WORK" && cd "$T_WORK"

fail() { printf 'FAIL %s: %s\n' "$case" "$*" >&2; exit 1; }

run_program() {   # run_program ARGS...: 1 ms quantum, stats as JSON in stats.json
    env LD_PRELOAD="$T_SHIM" OCPREEMPT_QUANTUM=1ms OCPREEMPT_YIELD="${T_YIELD:-Obs_sched.yield}" \
        OCPREEMPT_STATS="$T_WORK/stats.json" OCPREEMPT_STATS_FORMAT=json \
        "$T_PROGRAM" "$@" >out.txt 2>err.txt || { cat err.txt >&2; fail "program exited with $?"; }
    grep -Eq '^(fiber_names: done|RESULT )' out.txt || fail "program output: $(cat out.txt)"
}

expected=()
[[ $case == names* ]] && expected=(
    "Fiber_names.ticker@$T_SOURCE:FIBER-TICKER,fibers==1,preemptions==0,runs>10"
    "Fiber_names.worker@$T_SOURCE:FIBER-WORKER,fibers==3,runs>=120"
    "Fiber_names.hog@$T_SOURCE:FIBER-HOG,fibers==1,preemptions>=1"
)

case "$case" in
names)
    run_program
    python3 "$T_CHECK" stats.json "${expected[@]}" || fail "fibers misnamed"
    ;;
names_twin)
    run_program swap
    if python3 "$T_CHECK" stats.json "${expected[@]}" >check.txt 2>&1; then
        fail "the check passed although the ticker was started by other_ticker"
    fi
    grep -q 'no fiber group named Fiber_names.ticker' check.txt ||
        fail "the check failed for another reason: $(cat check.txt)"
    ;;
eco)
    run_program fair
    python3 "$T_CHECK" stats.json "$@" || fail "fibers misnamed"
    ;;
eco_twin)
    run_program fair
    if python3 "$T_CHECK" stats.json "$@" >check.txt 2>&1; then
        fail "the check passed with expectations that name a fiber wrongly"
    fi
    grep -q 'no fiber group named' check.txt || fail "the check failed for another reason: $(cat check.txt)"
    ;;
callback)       # mode callback: the fiber inside a callback is named by its starter
    run_program callback
    python3 "$T_CHECK" stats.json "Fiber_names.cb_fiber@$T_SOURCE:FIBER-CB,fibers==1" \
        "Fiber_names.ticker@$T_SOURCE:FIBER-TICKER,fibers==1" || fail "fibers misnamed"
    ;;
callback_twin)  # the same report, checked for a group named after the callback: rejected
    run_program callback
    if python3 "$T_CHECK" stats.json "Fiber_names.in_callback@$T_SOURCE:CALLBACK-WORK" \
        >check.txt 2>&1; then
        fail "a fiber group is named after the callback's function"
    fi
    grep -q 'no fiber group named Fiber_names.in_callback' check.txt ||
        fail "the check failed for another reason: $(cat check.txt)"
    ;;
*) fail "unknown case" ;;
esac
echo "ok $case"
