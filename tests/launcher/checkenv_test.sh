#!/usr/bin/env bash
# checkenv_test: ocpreempt-checkenv, one case per CTest test (checkenv_<case>). The unit
# tests (tests/unit/config) cover every value; these cover the program around them: exit
# statuses, what goes to stdout and stderr, --print, --list, --value, arguments.
source "${BASH_SOURCE[0]%/*}/testlib.sh"

checkenv=$T_CHECKENV

case_valid_silent() {
    run_cmd "$checkenv"
    expect_eq "$status" 0 "no variables"
    expect_eq "$out$err" "" "nothing printed"
    OCPREEMPT_QUANTUM=2ms OCPREEMPT_LIB=/x.so OCPREEMPT_CACHE=/c run_cmd "$checkenv"
    expect_eq "$status" 0 "valid variables and the tools' own"
    expect_eq "$out$err" "" "nothing printed"
}

case_print_defaults() {
    run_cmd "$checkenv" --print
    expect_eq "$status" 0 "status"
    expect_eq "$err" "" "stderr"
    expect_eq "$out" "\
OCPREEMPT_LOG=warn
OCPREEMPT_QUANTUM=10ms
OCPREEMPT_YIELD=
OCPREEMPT_STATS=0
OCPREEMPT_STATS_FORMAT=text
OCPREEMPT_TRACE=
OCPREEMPT_TRACE_FORMAT=text
OCPREEMPT_STRICT=0
OCPREEMPT_DISABLE=0
OCPREEMPT_DENY=Stdlib__Effect,Stdlib__Mutex,Stdlib__Condition,Stdlib__Semaphore,\
Stdlib__Queue,Stdlib__Stack,Stdlib__Buffer,Stdlib__Atomic,Stdlib__Printf,\
CamlinternalFormat,Thread,Eio,Miou,Picos,Moonpool,Domainslib,Saturn,Lwt
OCPREEMPT_CRITICAL=
OCPREEMPT_SITES=all
OCPREEMPT_CHAOS=
OCPREEMPT_CHAOS_RATE=64
OCPREEMPT_SELF_CLOCK=0
OCPREEMPT_VERIFY=0
OCPREEMPT_ASSUME_RUNTIME=
OCPREEMPT_ANALYSIS_CACHE=" "the effective defaults"
}

case_print_environment() {
    OCPREEMPT_LOG=debug OCPREEMPT_QUANTUM=1500us OCPREEMPT_REQUEST=monitor \
    OCPREEMPT_YIELD=Sched.yield OCPREEMPT_STATS=/tmp/s \
    OCPREEMPT_STATS_FORMAT=json OCPREEMPT_TRACE=/tmp/t OCPREEMPT_TRACE_FORMAT=chrome \
    OCPREEMPT_STRICT=1 \
    OCPREEMPT_DISABLE=1 OCPREEMPT_DENY=A,B OCPREEMPT_CRITICAL=Lib.Cache.update,Lib__Pool \
    OCPREEMPT_SITES=poll OCPREEMPT_CHAOS=0042:1,2-3 OCPREEMPT_CHAOS_RATE=512 OCPREEMPT_SELF_CLOCK=0 \
    OCPREEMPT_VERIFY=1 \
    OCPREEMPT_ASSUME_RUNTIME=5.3 OCPREEMPT_ANALYSIS_CACHE=off run_cmd "$checkenv" --print
    expect_eq "$status" 0 "status"
    expect_eq "$out" "\
OCPREEMPT_LOG=debug
OCPREEMPT_QUANTUM=1500us
OCPREEMPT_YIELD=Sched.yield
OCPREEMPT_STATS=/tmp/s
OCPREEMPT_STATS_FORMAT=json
OCPREEMPT_TRACE=/tmp/t
OCPREEMPT_TRACE_FORMAT=chrome
OCPREEMPT_STRICT=1
OCPREEMPT_DISABLE=1
OCPREEMPT_DENY=A,B
OCPREEMPT_CRITICAL=Lib.Cache.update,Lib__Pool
OCPREEMPT_SITES=poll
OCPREEMPT_CHAOS=42:1,2-3
OCPREEMPT_CHAOS_RATE=512
OCPREEMPT_SELF_CLOCK=0
OCPREEMPT_VERIFY=1
OCPREEMPT_ASSUME_RUNTIME=5.3
OCPREEMPT_ANALYSIS_CACHE=off" "values in their accepted (canonical) form"
    # What --print writes is accepted back as it is.
    local line
    while IFS= read -r line; do
        env "$line" "$checkenv" || fail "--print output $line is refused"
    done <<<"$out"
}

# One bad value per variable: exit 2, one line "ocpreempt: NAME=VALUE ...; ...", no stdout.
case_bad_values() {
    local pair name value
    for pair in OCPREEMPT_LOG=loud OCPREEMPT_QUANTUM=5xs \
                OCPREEMPT_YIELD=yield OCPREEMPT_STATS_FORMAT=xml \
                OCPREEMPT_STRICT=yes OCPREEMPT_DISABLE=true OCPREEMPT_DENY=lower \
                OCPREEMPT_CRITICAL=lower OCPREEMPT_SITES=some; do
        name=${pair%%=*}
        value=${pair#*=}
        env "$pair" "$checkenv" >"$work/stdout" 2>"$work/stderr"
        status=$?
        out=$(<"$work/stdout")
        err=$(<"$work/stderr")
        expect_eq "$status" 2 "$pair status"
        expect_match "$err" "^ocpreempt: $name=$value [a-z][^;]*; use [^;]+(;[^;]+)?$" "$pair line"
        expect_one_line "$work/stderr" "$pair"
        expect_eq "$out" "" "$pair stdout"
    done
    # The example line of the documentation, exactly.
    OCPREEMPT_QUANTUM=5xs run_cmd "$checkenv" --print
    expect_error 2 "ocpreempt: OCPREEMPT_QUANTUM=5xs is not a duration; use e.g. 10ms, 500us (minimum 100us)" "--print with a bad value prints no configuration"
    # OCPREEMPT_LOG=quiet silences the shim, not checkenv: it was asked.
    OCPREEMPT_LOG=quiet OCPREEMPT_QUANTUM=5xs run_cmd "$checkenv"
    expect_error 2 "ocpreempt: OCPREEMPT_QUANTUM=5xs is not a duration; use e.g. 10ms, 500us (minimum 100us)" "quiet"
}

# The retired signal mode's variables: one line each, exit 2, saying what to do.
case_retired_variables() {
    OCPREEMPT_REQUEST=signal run_cmd "$checkenv"
    expect_error 2 "ocpreempt: OCPREEMPT_REQUEST=signal asks for a request path that no longer exists: the monitor is the only one (signal mode was removed: its CPU-time timers fire only on the kernel's scheduler tick); unset OCPREEMPT_REQUEST" "signal mode"
    OCPREEMPT_SIGNAL=USR2 run_cmd "$checkenv"
    expect_error 2 "ocpreempt: OCPREEMPT_SIGNAL=USR2 sets the signal of the removed signal mode: the monitor sends no signal; unset OCPREEMPT_SIGNAL" "signal"
    OCPREEMPT_REQUEST=monitor run_cmd "$checkenv" --print
    expect_eq "$status" 0 "monitor is what happens anyway"
    expect_eq "$(grep -c 'REQUEST\|SIGNAL' <<<"$out")" 0 "not printed"
}

case_unknown_variable() {
    OCPREEMPT_QUATNUM=2ms run_cmd "$checkenv"
    expect_error 2 "ocpreempt: OCPREEMPT_QUATNUM is not a known variable; did you mean OCPREEMPT_QUANTUM?" "typo"
}

case_value_mode() {
    run_cmd "$checkenv" --value OCPREEMPT_QUANTUM 2ms
    expect_eq "$status:$out$err" "0:" "good value"
    OCPREEMPT_QUANTUM=5xs run_cmd "$checkenv" --value OCPREEMPT_STATS_FORMAT json
    expect_eq "$status:$out$err" "0:" "the environment does not matter"
    run_cmd "$checkenv" --value OCPREEMPT_STATS_FORMAT xml
    expect_error 2 "ocpreempt: OCPREEMPT_STATS_FORMAT=xml is not a stats format; use text or json" "bad value"
    run_cmd "$checkenv" --value OCPREEMPT_NOPE 1
    expect_eq "$status" 2 "unknown name"
    run_cmd "$checkenv" --value OCPREEMPT_QUANTUM
    expect_error 2 "ocpreempt-checkenv: --value needs NAME and VALUE; try ocpreempt-checkenv --help" "missing value"
}

case_list() {
    run_cmd "$checkenv" --list
    expect_eq "$status" 0 "status"
    expect_eq "$(cut -f1 <<<"$out" | tr '\n' ' ')" "OCPREEMPT_LOG OCPREEMPT_QUANTUM OCPREEMPT_YIELD OCPREEMPT_STATS OCPREEMPT_STATS_FORMAT OCPREEMPT_TRACE OCPREEMPT_TRACE_FORMAT OCPREEMPT_STRICT OCPREEMPT_DISABLE OCPREEMPT_DENY OCPREEMPT_CRITICAL OCPREEMPT_SITES OCPREEMPT_CHAOS OCPREEMPT_CHAOS_RATE OCPREEMPT_SELF_CLOCK OCPREEMPT_VERIFY OCPREEMPT_ASSUME_RUNTIME OCPREEMPT_ANALYSIS_CACHE " "names in table order"
    expect_eq "$(awk -F '\t' 'NF != 4' <<<"$out")" "" "four tab-separated fields per line"
    expect_eq "$(grep '^OCPREEMPT_QUANTUM' <<<"$out" | cut -f2)" "10ms" "a default"
}

case_arguments() {
    run_cmd "$checkenv" --help
    expect_eq "$status" 0 "--help status"
    expect_contains "$out" "--print" "--help text"
    expect_contains "$out" "Exit status" "--help text"
    run_cmd "$checkenv" --frobnicate
    expect_error 2 "ocpreempt-checkenv: unknown argument --frobnicate; try ocpreempt-checkenv --help" "unknown argument"
    run_cmd "$checkenv" --print extra
    expect_error 2 "ocpreempt-checkenv: unexpected argument extra; try ocpreempt-checkenv --help" "extra argument"
}

run_case "$@"
