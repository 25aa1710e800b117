#!/usr/bin/env bash
# silence_test.sh: an OCaml 5.3 program with nothing to preempt (no yield named, no known
# scheduler) under the shim. Preloaded directly, as CI users preload whole builds, it must
# behave exactly as without the shim: same stdout, same exit status, nothing on stderr,
# also with statistics asked. Where the user asked for something, one line says why it
# cannot be done: OCPREEMPT_LOG=info, a named yield that is not there, a bad value, and
# `ocpreempt run` starting the program itself (but not when it starts a shell that runs it).
# Environment: T_SHIM (libocpreempt.so), T_PROGRAM (the 5.3 program), T_LAUNCHER.
set -uo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0

"$T_PROGRAM" >"$work/plain.out" 2>"$work/plain.err"
plain_status=$?

fail() { echo "FAIL $1: $2"; sed 's/^/  stderr: /' "$work/err"; fails=$((fails + 1)); }

run() {   # run ENV... -- COMMAND...: stdout, stderr into $work/out, $work/err; status
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" "$@" >"$work/out" 2>"$work/err"
}

silent() {   # silent LABEL ENV...: with the shim preloaded, exactly as without it
    local label=$1
    shift
    run LD_PRELOAD="$T_SHIM" "$@" -- "$T_PROGRAM"
    local status=$?
    if ((status != plain_status)); then
        fail "$label" "exit $status, without the shim $plain_status"
    elif ! cmp -s "$work/plain.out" "$work/out"; then
        fail "$label" "stdout differs"
    elif [[ -s $work/err ]]; then
        fail "$label" "stderr is not empty"
    else
        echo "ok $label: silent"
    fi
}

one_line() {   # one_line LABEL REGEX: $work/err is exactly one line matching REGEX
    local label=$1 regex=$2 lines
    lines=$(wc -l <"$work/err")
    if ((lines != 1)); then
        fail "$label" "expected one line on stderr, got $lines"
    elif ! grep -Eq "$regex" "$work/err"; then
        fail "$label" "the line does not match /$regex/"
    elif ! cmp -s "$work/plain.out" "$work/out"; then
        fail "$label" "stdout differs"
    else
        echo "ok $label: $(cat "$work/err")"
    fi
}

silent "default"
silent "stats asked" OCPREEMPT_STATS=1
silent "launched by another tool" OCPREEMPT_LAUNCHED=1

run LD_PRELOAD="$T_SHIM" OCPREEMPT_LOG=info -- "$T_PROGRAM"
one_line "log info" '^ocpreempt: inactive: no known scheduler.s yield \(Eio, Miou, Picos\) and none named'
run LD_PRELOAD="$T_SHIM" OCPREEMPT_YIELD=Nowhere.yield -- "$T_PROGRAM"
one_line "yield named but absent" '^ocpreempt: disabled: .*Nowhere\.yield'
run LD_PRELOAD="$T_SHIM" OCPREEMPT_QUANTUM=5xs -- "$T_PROGRAM"
one_line "bad value" '^ocpreempt: OCPREEMPT_QUANTUM=5xs '

# ocpreempt run: the program it starts explains; a program a shell starts does not.
run -- "$T_LAUNCHER" run -- "$T_PROGRAM"
one_line "ocpreempt run" '^ocpreempt: nothing to preempt in this program: no known scheduler.s yield \(Eio, Miou, Picos\) and none named'
run -- "$T_LAUNCHER" run -- /bin/sh -c "\"$T_PROGRAM\""
if [[ -s $work/err ]]; then
    fail "ocpreempt run, via a shell" "the shell's child is not the program the user started"
else
    echo "ok ocpreempt run, via a shell: silent"
fi
((fails == 0))
