#!/usr/bin/env bash
# refused_release_test.sh: an OCaml 5 program of a release without a runtime profile
# (analysis/runtime/runtime_profile.h: 5.1 refused for its hook order, 5.4 trunk without a profile)
# says so in one line where preemption was asked for, and only there:
#  - OCPREEMPT_YIELD named: one line naming the supported releases (and for a release
#    without a profile the opt-in), the program's stdout and exit status unchanged;
#  - nothing asked (no yield named, no known scheduler): nothing on stderr;
#  - only a bad configuration: nothing on stderr (a preloaded build's compilers);
#  - T_ASSUME set (the trunk): with OCPREEMPT_ASSUME_RUNTIME=$T_ASSUME the program runs
#    on that profile, says so in one line, and stays active to its exit (the core tests
#    *_54dev show the preemptions).
# Environment: T_SHIM, T_PROGRAM, T_YIELD, T_EXPECT (a grep -E pattern of the line),
# T_ASSUME (optional).
set -uo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$T_PROGRAM" >"$work/plain.out" 2>"$work/plain.err"
plain_status=$?

run() {   # run ENV...: the program with the shim preloaded
    env LD_PRELOAD="$T_SHIM" "$@" "$T_PROGRAM" >"$work/out" 2>"$work/err"
    status=$?
}
same_run() {
    ((status == plain_status)) || fail "$1: exit $status, without the shim $plain_status"
    cmp -s "$work/plain.out" "$work/out" || fail "$1: stdout differs"
}

run OCPREEMPT_YIELD="$T_YIELD"
same_run "yield named"
(($(wc -l <"$work/err") == 1)) || fail "yield named: not one line on stderr: $(cat "$work/err")"
grep -qE "$T_EXPECT" "$work/err" || fail "yield named: the line does not match $T_EXPECT: $(cat "$work/err")"

run
same_run "nothing asked"
[[ ! -s $work/err ]] || fail "nothing asked, yet stderr: $(cat "$work/err")"

run OCPREEMPT_QUANTUM=5xs
same_run "bad configuration only"
[[ ! -s $work/err ]] || fail "bad configuration only, yet stderr: $(cat "$work/err")"

if [[ -n ${T_ASSUME:-} ]]; then
    run OCPREEMPT_YIELD="$T_YIELD" OCPREEMPT_ASSUME_RUNTIME="$T_ASSUME" OCPREEMPT_STATS=1 \
        OCPREEMPT_QUANTUM=1ms
    ((status == plain_status)) || fail "opt-in: exit $status, without the shim $plain_status"
    grep -qE "^ocpreempt: OCaml .* runs on the OCaml $T_ASSUME runtime profile \(assumed" "$work/err" ||
        fail "opt-in: no start-up line saying so: $(cat "$work/err")"
    # Active to the end (its stats line); the core tests *_54dev show it preempts.
    grep -q '^ocpreempt: stats: requests=' "$work/err" || fail "opt-in: not active: $(cat "$work/err")"
fi
echo "ok: ${T_PROGRAM##*/}"
