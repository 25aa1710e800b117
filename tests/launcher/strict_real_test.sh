#!/usr/bin/env bash
# strict_real_test.sh CASE: the launcher with the real shim and probe on real OCaml
# programs (the other launcher tests use a fake shim and probe): what --strict refuses
# must be what the shim would not do, and what the shim says when it cannot do what was
# asked. Environment: T_LAUNCHER, T_SHIM, T_SCHED_53, T_SCHED_51 (tests/probe's
# sched_demo.ml built with OCaml 5.3 and 5.1; its yield is Sched_demo.yield).
set -uo pipefail
case=${1:?usage: strict_real_test.sh CASE}
fail() { printf 'FAIL %s: %s\n' "$case" "$*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OCPREEMPT_LIB=$T_SHIM

launch() {   # launch ARGS...: the launcher; sets status, out, err
    "$T_LAUNCHER" "$@" >"$work/out" 2>"$work/err"
    status=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
}

# The shim refuses OCaml 5.1 (its runtime profile is a refusal: runtime_bind): --strict must not start a 5.1
# program, and says why in the probe's words.
case_strict_ocaml51() {
    [[ -x $T_SCHED_51 ]] || { echo "SKIP: no OCaml 5.1 program"; exit 77; }
    launch run --strict --yield Sched_demo.yield -- "$T_SCHED_51"
    ((status == 2)) || fail "status $status (out: $out; err: $err)"
    [[ -z $out ]] || fail "the program ran: $out"
    [[ $err == "ocpreempt: $T_SCHED_51 cannot be preempted (unsupported: OCaml 5.1.x is not supported: its runtime calls the interrupt hook before signal handlers, memprof callbacks and finalisers have run OCaml code (see docs/design.md); supported: OCaml 5.2, 5.3); strict mode, not starting it" ]] ||
        fail "message: $err"
    # The same program with 5.3 starts.
    launch run --strict --yield Sched_demo.yield -- "$T_SCHED_53"
    ((status == 0)) || fail "5.3: status $status: $err"
}

# A critical section that names nothing in the program: --strict refuses to start it.
case_strict_critical_missing() {
    launch run --strict --yield Sched_demo.yield --critical Sched_demo.buidl -- "$T_SCHED_53"
    ((status == 2)) || fail "status $status (out: $out; err: $err)"
    [[ -z $out ]] || fail "the program ran: $out"
    [[ $err == "ocpreempt: $T_SCHED_53: OCPREEMPT_CRITICAL entry Sched_demo.buidl is not in this program; strict mode, not starting it" ]] ||
        fail "message: $err"
    OCPREEMPT_CRITICAL=Sched_demo.busy,Nope launch run --strict --yield Sched_demo.yield -- "$T_SCHED_53"
    ((status == 2)) && [[ $err == *"entry Nope is not in this program"* ]] ||
        fail "from the environment: status $status: $err"
    # Entries that all name something: it runs.
    launch run --strict --yield Sched_demo.yield --critical Sched_demo.busy,Stdlib__Queue -- "$T_SCHED_53"
    ((status == 0)) && [[ -n $out ]] || fail "resolved entries: status $status: $err"
}

# Without --strict the shim still preempts, and says once that the entry protects nothing.
case_critical_missing_warns() {
    OCPREEMPT_CRITICAL=Sched_demo.buidl,Sched_demo.busy OCPREEMPT_YIELD=Sched_demo.yield \
        LD_PRELOAD=$T_SHIM "$T_SCHED_53" >"$work/out" 2>"$work/err"
    status=$?
    ((status == 0)) || fail "status $status"
    [[ $(cat "$work/err") == "ocpreempt: OCPREEMPT_CRITICAL: Sched_demo.buidl is not in this program: it protects nothing (check the spelling: Unit, Lib.Unit or Unit.function)" ]] ||
        fail "stderr: $(cat "$work/err")"
    # Quiet stays quiet.
    OCPREEMPT_LOG=quiet OCPREEMPT_CRITICAL=Sched_demo.buidl OCPREEMPT_YIELD=Sched_demo.yield \
        LD_PRELOAD=$T_SHIM "$T_SCHED_53" >/dev/null 2>"$work/err"
    [[ ! -s $work/err ]] || fail "quiet: $(cat "$work/err")"
}

"case_$case"
echo "ok: $case"
