#!/usr/bin/env bash
# strict_real_test.sh CASE: the launcher with the real shim and probe on real OCaml
# programs (the other launcher tests use a fake shim and probe): what --strict refuses
# must be what the shim would not do. Environment: T_LAUNCHER, T_SHIM, T_SCHED_53, T_SCHED_51 (tests/probe's
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

# The shim refuses every OCaml but 5.3 (runtime_bind): --strict must not start a 5.1
# program, and says why in the probe's words.
case_strict_ocaml51() {
    [[ -x $T_SCHED_51 ]] || { echo "SKIP: no OCaml 5.1 program"; exit 77; }
    launch run --strict --yield Sched_demo.yield -- "$T_SCHED_51"
    ((status == 2)) || fail "status $status (out: $out; err: $err)"
    [[ -z $out ]] || fail "the program ran: $out"
    [[ $err == "ocpreempt: $T_SCHED_51 cannot be preempted (unsupported: OCaml 5.1.x: only OCaml 5.3 is supported); strict mode, not starting it" ]] ||
        fail "message: $err"
    # The same program with 5.3 starts.
    launch run --strict --yield Sched_demo.yield -- "$T_SCHED_53"
    ((status == 0)) || fail "5.3: status $status: $err"
}

"case_$case"
echo "ok: $case"
