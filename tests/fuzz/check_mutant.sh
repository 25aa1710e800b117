#!/usr/bin/env bash
# Makes one doctored copy of a real executable and checks what the probe and the shim say
# about it (issue 9 items 3 and 9).
#
#   check_mutant.sh MUTATE PROBE SHIM SUBJECT MUTATION... -- CHECK...
#
# MUTATION is passed to ocpreempt-mutate (`none`: the unmodified subject, for controls).
# Each CHECK is one of:
#   alone            the mutant runs alone and prints the subject's "ok" line, exit 0
#   probe:RE         `ocpreempt-probe MUTANT --yield Sched.yield` prints a line
#                    matching RE (and does not crash: exit 0 or 1)
#   shim:RE          LD_PRELOAD=SHIM OCPREEMPT_YIELD=Sched.yield MUTANT (1 ms
#                    quantum: the subject runs long enough to be preempted), default
#                    log level: the program runs normally and stderr is exactly one line,
#                    "ocpreempt: ...", matching RE
#   shim-active:RE   the same with OCPREEMPT_LOG=info: runs normally, a stderr line matches RE
# Exit 0 all checks passed, 1 a check failed, 77 skipped (subject not built).
set -uo pipefail

mutate=$1 probe=$2 shim=$3 subject=$4
shift 4
mutation=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do mutation+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ -x "$subject" ] || { echo "SKIPPED: $subject was not built"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mutant=$tmp/hardening_subject
if [ "${mutation[0]}" = none ]; then
    cp "$subject" "$mutant"
elif ! "$mutate" "$subject" "$mutant" "${mutation[@]}"; then
    echo "FAILED: ocpreempt-mutate ${mutation[*]}"
    exit 1
fi
expected=$("$subject")

failed=0
fail() { echo "CHECK FAILED: $*"; failed=1; }

# Runs the mutant with the shim; $1 = log level ("" for the default).
run_shim() {
    env LD_PRELOAD="$shim" OCPREEMPT_YIELD=Sched.yield OCPREEMPT_QUANTUM=1ms \
        ${1:+OCPREEMPT_LOG=$1} \
        "$mutant" > "$tmp/shim.out" 2> "$tmp/shim.err"
    local rc=$?
    echo "--- with the shim${1:+ (log $1)}: exit $rc"; cat "$tmp/shim.out"
    echo "--- stderr"; cat "$tmp/shim.err"
    [ "$rc" -eq 0 ] || fail "exit $rc with the shim"
    [ "$(cat "$tmp/shim.out")" = "$expected" ] || fail "output differs with the shim"
}

for c in "$@"; do
    case "$c" in
        alone)
            out=$("$mutant" 2>&1); rc=$?
            echo "--- alone: exit $rc: $out"
            [ "$rc" -eq 0 ] && [ "$out" = "$expected" ] || fail "mutant does not run normally alone"
            ;;
        probe:*)
            "$probe" "$mutant" --yield Sched.yield > "$tmp/probe.out" 2>&1; rc=$?
            echo "--- probe: exit $rc"; cat "$tmp/probe.out"
            [ "$rc" -le 1 ] || fail "probe exit $rc"
            grep -Eq -- "${c#probe:}" "$tmp/probe.out" || fail "probe output does not match /${c#probe:}/"
            ;;
        shim:*)
            run_shim ""
            [ "$(wc -l < "$tmp/shim.err")" -eq 1 ] || fail "stderr is not exactly one line"
            grep -Eq -- "^ocpreempt: .*${c#shim:}" "$tmp/shim.err" || fail "stderr does not match /${c#shim:}/"
            ;;
        shim-active:*)
            run_shim info
            grep -Eq -- "${c#shim-active:}" "$tmp/shim.err" || fail "stderr does not match /${c#shim-active:}/"
            ;;
        *) fail "unknown check '$c'" ;;
    esac
done
exit $failed
