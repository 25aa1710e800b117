#!/usr/bin/env bash
# launcher_test: scripts/ocpreempt as a user runs it, one case per CTest test
# (launcher_<case>). The library is tests/launcher/fake_shim.c, installed with the real
# ocpreempt-checkenv into a layout under $work, so these tests are about the launcher only:
# option handling, strict/non-strict, LD_PRELOAD, exec (statuses, signals, pid), layouts,
# output-file checks. "The program never ran" is proved by a marker file it would create.
#
# Many programs here are `sh -c '...$VAR...'`: expanded by the child, on purpose.
# shellcheck disable=SC2016
source "${BASH_SOURCE[0]%/*}/testlib.sh"

quantum_line="OCPREEMPT_QUANTUM=5xs is not a duration; use e.g. 10ms, 500us (minimum 100us)"
hint="(try 'ocpreempt --help')"

# The fake probe echoes its arguments; FAKE_PROBE_VERDICT=supported|unsupported makes it
# end like the real one (strict mode asks it for a verdict) and exit 0 or 1.
make_fake_probe() {
    cat >"$1" <<'EOF'
#!/bin/sh
printf 'probe:'
printf ' [%s]' "$@"
echo
case ${FAKE_PROBE_VERDICT-} in
    supported) echo "verdict: supported"; exit 0 ;;
    unsupported) echo "verdict: unsupported: fake reason"; exit 1 ;;
esac
exit 5
EOF
    chmod +x "$1"
}

# An installed layout: <prefix>/bin, lib, libexec/ocpreempt (with the launcher's parts in
# libexec/ocpreempt/launcher, as CMake installs them: case installed_by_cmake).
make_installed() {
    local prefix=$1
    mkdir -p "$prefix/bin" "$prefix/lib" "$prefix/libexec/ocpreempt/launcher"
    cp "$T_SOURCE_DIR/scripts/ocpreempt" "$prefix/bin/ocpreempt"
    cp "$T_SOURCE_DIR"/scripts/lib/ocpreempt/*.sh "$prefix/libexec/ocpreempt/launcher/"
    cp "$T_FAKE_SHIM" "$prefix/lib/libocpreempt.so"
    cp "$T_CHECKENV" "$prefix/libexec/ocpreempt/ocpreempt-checkenv"
    make_fake_probe "$prefix/bin/ocpreempt-probe"
}

# A source tree with its build directory: scripts/, build/shim, build/probe.
make_source_tree() {
    local root=$1
    mkdir -p "$root/scripts/lib/ocpreempt" "$root/build/shim" "$root/build/probe"
    cp "$T_SOURCE_DIR/scripts/ocpreempt" "$root/scripts/ocpreempt"
    cp "$T_SOURCE_DIR"/scripts/lib/ocpreempt/*.sh "$root/scripts/lib/ocpreempt/"
    cp "$T_FAKE_SHIM" "$root/build/shim/libocpreempt.so"
    cp "$T_CHECKENV" "$root/build/shim/ocpreempt-checkenv"
    make_fake_probe "$root/build/probe/ocpreempt-probe"
}

setup() {
    make_installed "$work/prefix"
    launcher=$work/prefix/bin/ocpreempt
    lib=$work/prefix/lib/libocpreempt.so
    # A program that leaves a marker, so a test can tell whether it ran.
    marker_program=(sh -c 'touch "$0"; echo ran' "$work/marker")
}

# ---- help, version, argument errors ---------------------------------------------------

case_help() {
    setup
    run_cmd "$launcher" --help
    expect_eq "$status" 0 "--help status"
    expect_eq "$err" "" "--help stderr"
    local word
    for word in --quantum --yield --stats --stats=FILE --json --trace \
                --deny --critical --sites --log --strict "ocpreempt probe" "ocpreempt cache" \
                "Exit status" 126 127 OCPREEMPT_LIB; do
        expect_contains "$out" "$word" "--help documents $word"
    done
    local help=$out
    run_cmd "$launcher" run --help
    expect_eq "$out" "$help" "run --help"
    run_cmd "$launcher" -h
    expect_eq "$out" "$help" "-h"
    rm "$lib"
    run_cmd "$launcher" run --quantum 2ms --help
    expect_eq "$status:$out" "0:$help" "run --help without a library"
}

case_help_lists_all_variables() {
    setup
    run_cmd "$launcher" --help
    local name
    while IFS=$'\t' read -r name _; do
        expect_match "$out" "(^|[[:space:]])$name([[:space:]]|$)" "--help lists $name"
    done < <("$T_CHECKENV" --list)
    [[ $("$T_CHECKENV" --list | wc -l) -ge 9 ]] || fail "checkenv --list is too short"
    expect_eq "$(grep -c -- '--request\|--signal\|OCPREEMPT_REQUEST\|OCPREEMPT_SIGNAL' <<<"$out")" 0 \
        "--help does not offer the removed signal mode"
}

case_docs_list_all_variables() {
    local name docs=$T_SOURCE_DIR/docs/configuration.md
    expect_file "$docs" "configuration docs"
    while IFS=$'\t' read -r name _; do
        grep -q "^| \`$name\`" "$docs" || fail "docs/configuration.md has no table row for $name"
    done < <("$T_CHECKENV" --list)
}

case_version() {
    setup
    run_cmd "$launcher" --version
    expect_eq "$status" 0 "--version status"
    expect_eq "$out" "ocpreempt $T_VERSION" "--version (must match the CMake project version)"
}

case_no_command() {
    setup
    run_cmd "$launcher"
    expect_error 2 "ocpreempt: missing command: run, stress, probe or cache $hint" "no command"
    run_cmd "$launcher" frobnicate
    expect_error 2 "ocpreempt: unknown command frobnicate $hint" "unknown command"
}

case_missing_separator() {
    setup
    run_cmd "$launcher" run "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: missing -- before the program (sh) $hint" "no --"
    expect_no_file marker "the program must not run"
    run_cmd "$launcher" run --quantum 2ms
    expect_error 2 "ocpreempt: run: missing -- PROGRAM $hint" "options only"
    run_cmd "$launcher" run
    expect_error 2 "ocpreempt: run: missing -- PROGRAM $hint" "nothing"
}

case_unknown_option() {
    setup
    run_cmd "$launcher" run --frobnicate -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: unknown option --frobnicate $hint" "unknown option"
    run_cmd "$launcher" run -q -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: unknown option -q $hint" "unknown short option"
    run_cmd "$launcher" run --json=1 -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: unknown option --json=1 $hint" "--json takes no value"
    expect_no_file marker "the program must not run"
}

case_missing_program() {
    setup
    run_cmd "$launcher" run --
    expect_error 2 "ocpreempt: run: missing PROGRAM after -- $hint" "missing program"
    run_cmd "$launcher" run --quantum 2ms --
    expect_error 2 "ocpreempt: run: missing PROGRAM after -- $hint" "options then --"
}

case_option_missing_value() {
    setup
    run_cmd "$launcher" run --quantum
    expect_error 2 "ocpreempt: run: --quantum needs a value $hint" "--quantum at the end"
    run_cmd "$launcher" run --trace= -- true
    expect_error 2 "ocpreempt: run: --trace needs a FILE $hint" "--trace="
    # The option would take "--" as its value: name the missing value, not a missing --.
    run_cmd "$launcher" run --trace -- true
    expect_error 2 "ocpreempt: run: --trace needs a FILE $hint" "--trace --"
    run_cmd "$launcher" run --quantum -- true
    expect_error 2 "ocpreempt: run: --quantum needs a value $hint" "--quantum --"
    run_cmd "$launcher" run --stats= -- true
    expect_error 2 "ocpreempt: run: --stats= needs a file $hint" "--stats="
}

# Values given as options are checked strictly, with or without --strict.
case_bad_option_values() {
    setup
    run_cmd "$launcher" run --quantum 5xs -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: --quantum: $quantum_line" "--quantum 5xs"
    run_cmd "$launcher" run --quantum=5xs -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: --quantum: $quantum_line" "--quantum=5xs"
    run_cmd "$launcher" run --quantum 50us -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: --quantum: OCPREEMPT_QUANTUM=50us is below the minimum 100us; use e.g. 10ms, 500us (minimum 100us)" "--quantum 50us"
    local option value name
    for option in "--log verbose" "--yield yield" "--deny lower" "--critical lower" \
                  "--sites some"; do
        read -r name value <<<"$option"
        run_cmd "$launcher" run "$name" "$value" -- "${marker_program[@]}"
        expect_eq "$status" 2 "$option status"
        expect_match "$err" "^ocpreempt: run: $name: OCPREEMPT_[A-Z_]+=$value [^;]+; use .+$" "$option line"
        expect_one_line "$work/stderr" "$option"
    done
    expect_no_file marker "the program must not run"
}

# The retired signal mode's options: one line saying so and what to do; nothing runs.
case_removed_options() {
    setup
    local option
    for option in "--request signal" "--request=monitor" "--signal USR2" "--signal=URG"; do
        run_cmd "$launcher" run $option -- "${marker_program[@]}"
        expect_error 2 "ocpreempt: run: ${option%%[ =]*} was removed with signal mode: the monitor is the only request path and sends no signal; drop the option $hint" "$option"
    done
    expect_no_file marker "the program must not run"
}

# ---- strict and non-strict ------------------------------------------------------------

case_strict_bad_env() {
    setup
    OCPREEMPT_QUANTUM=5xs run_cmd "$launcher" run --strict -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: $quantum_line" "--strict, bad OCPREEMPT_QUANTUM"
    expect_no_file marker "strict: the program must not run"
    OCPREEMPT_QUANTUMM=2ms run_cmd "$launcher" run --strict -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: OCPREEMPT_QUANTUMM is not a known variable; did you mean OCPREEMPT_QUANTUM?" "--strict, misspelt variable"
    expect_no_file marker "strict: the program must not run"
}

case_strict_unsupported_program() {
    setup
    FAKE_PROBE_VERDICT=unsupported run_cmd "$launcher" run --strict -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: sh cannot be preempted (unsupported: fake reason); strict mode, not starting it" "--strict, the probe says unsupported"
    expect_no_file marker "strict: an unsupported program must not run"
    FAKE_PROBE_VERDICT=supported run_cmd "$launcher" run --strict -- "${marker_program[@]}"
    expect_eq "$status" 0 "--strict, the probe says supported"
    expect_file marker "strict: a supported program runs"
}

case_strict_env_variable() {
    setup
    OCPREEMPT_STRICT=1 OCPREEMPT_QUANTUM=5xs run_cmd "$launcher" run -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: $quantum_line" "OCPREEMPT_STRICT=1"
    expect_no_file marker "OCPREEMPT_STRICT=1: the program must not run"
    # A bad OCPREEMPT_STRICT still shows the intent to be strict.
    OCPREEMPT_STRICT=yes run_cmd "$launcher" run -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: OCPREEMPT_STRICT=yes is not 0 or 1; use 0 or 1" "OCPREEMPT_STRICT=yes"
    expect_no_file marker "OCPREEMPT_STRICT=yes: the program must not run"
}

case_nonstrict_bad_env() {
    setup
    OCPREEMPT_QUANTUM=5xs run_cmd "$launcher" run -- sh -c 'touch marker; echo "ran [${LD_PRELOAD-}]"'
    expect_eq "$status" 0 "non-strict status"
    expect_eq "$out" "ran []" "non-strict: the program ran, without the library preloaded"
    expect_eq "$err" "ocpreempt: $quantum_line" "non-strict: the line"
    expect_one_line "$work/stderr" "non-strict"
    expect_file marker "non-strict: the program ran"
    # The program's own status still passes through.
    OCPREEMPT_QUANTUM=5xs run_cmd "$launcher" run -- sh -c 'exit 4'
    expect_eq "$status" 4 "non-strict exit status"
}

case_nonstrict_quiet() {
    setup
    OCPREEMPT_LOG=quiet OCPREEMPT_QUANTUM=5xs run_cmd "$launcher" run -- echo ran
    expect_eq "$status" 0 "quiet status"
    expect_eq "$out" "ran" "quiet: the program ran"
    expect_eq "$err" "" "OCPREEMPT_LOG=quiet: nothing on stderr"
    # Strict always says why it stops.
    OCPREEMPT_LOG=quiet OCPREEMPT_QUANTUM=5xs run_cmd "$launcher" run --strict -- echo ran
    expect_error 2 "ocpreempt: $quantum_line" "quiet but strict"
}

# ---- LD_PRELOAD and the environment ---------------------------------------------------

# Prints LD_PRELOAD, then every preloaded library the dynamic linker mapped into `cat`.
show_preload=(sh -c 'echo "$LD_PRELOAD"; grep -o "[^ ]*/lib[a-z]*\.so$" /proc/self/maps | sort -u')

case_preload_added() {
    setup
    run_cmd "$launcher" run -- "${show_preload[@]}"
    expect_eq "$status" 0 "status"
    expect_eq "$out" "$lib"$'\n'"$lib" "LD_PRELOAD is the library, and it is mapped"
    expect_eq "$err" "" "stderr"
}

case_ldpreload_preserved() {
    setup
    local other=$work/other/libother.so
    mkdir -p "$work/other"
    cp "$T_FAKE_SHIM" "$other"
    LD_PRELOAD=$other run_cmd "$launcher" run -- "${show_preload[@]}"
    expect_eq "$status" 0 "status"
    expect_eq "$out" "$other:$lib"$'\n'"$(printf '%s\n' "$other" "$lib" | sort)" \
        "the existing entry stays first, the library is appended, both are mapped"
    # Seen from the program itself: its initial environment (/proc/self/environ).
    LD_PRELOAD="$other" run_cmd "$launcher" run -- sh -c 'tr "\0" "\n" </proc/$$/environ | grep "^LD_PRELOAD="'
    expect_eq "$out" "LD_PRELOAD=$other:$lib" "/proc/self/environ of the program"
    # Space-separated lists are kept as they are.
    LD_PRELOAD="$other $other" run_cmd "$launcher" run -- printenv LD_PRELOAD
    expect_eq "$out" "$other $other:$lib" "space-separated LD_PRELOAD"
}

case_ldpreload_no_duplicate() {
    setup
    LD_PRELOAD=$lib run_cmd "$launcher" run -- printenv LD_PRELOAD
    expect_eq "$out" "$lib" "already preloaded: not added twice"
    LD_PRELOAD=" : " run_cmd "$launcher" run -- printenv LD_PRELOAD
    expect_eq "$out" "$lib" "separators only count as empty"
}

# Apart from OCPREEMPT_* and LD_PRELOAD, the program sees the environment it would see
# without the launcher (bash adds only "_", which differs by nature).
case_env_only_ocpreempt() {
    setup
    local filter='^(OCPREEMPT_[A-Z_]*|LD_PRELOAD|_)='
    export T_MARK="a b"
    bash -c 'exec env' | grep -Ev "$filter" | sort >"$work/direct.env"
    "$launcher" run --quantum 2ms --trace t.tsv -- env >"$work/launched.raw" ||
        fail "launcher failed"
    grep -Ev "$filter" "$work/launched.raw" | sort >"$work/launched.env"
    diff "$work/direct.env" "$work/launched.env" >"$work/env.diff" ||
        fail "the environment changed beyond OCPREEMPT_*/LD_PRELOAD: $(cat "$work/env.diff")"
    expect_eq "$(grep -E '^OCPREEMPT_' "$work/launched.raw" | grep -v '^OCPREEMPT_LAUNCHED=' | sort)" \
        "OCPREEMPT_QUANTUM=2ms"$'\n'"OCPREEMPT_TRACE=$work/t.tsv" "exactly the options' variables"
    expect_match "$(grep -E '^OCPREEMPT_LAUNCHED=' "$work/launched.raw")" \
        '^OCPREEMPT_LAUNCHED=[0-9]+$' "and the launched program's pid"
}

# OCPREEMPT_LAUNCHED is the pid of the program the launcher exec'd (the shim in that
# process, not in its children, says why when it has nothing to preempt); not set when
# the library is not preloaded (a bad environment, non-strict).
case_launched_pid() {
    setup
    run_cmd "$launcher" run -- sh -c 'echo "$$ $OCPREEMPT_LAUNCHED"'
    expect_eq "$status" 0 "status"
    expect_match "$out" '^([0-9]+) \1$' "OCPREEMPT_LAUNCHED is the program's own pid"
    run_cmd "$launcher" run -- sh -c 'sh -c "echo \$\$ \$OCPREEMPT_LAUNCHED"'
    expect_match "$out" '^[0-9]+ [0-9]+$' "a child sees the variable"
    [[ $out =~ ^([0-9]+)\ ([0-9]+)$ && ${BASH_REMATCH[1]} != "${BASH_REMATCH[2]}" ]] ||
        fail "a child's pid differs from OCPREEMPT_LAUNCHED: [$out]"
    OCPREEMPT_QUANTUM=5xs run_cmd "$launcher" run -- sh -c 'echo "[${OCPREEMPT_LAUNCHED-unset}]"'
    expect_eq "$out" "[unset]" "no preload, no OCPREEMPT_LAUNCHED"
}

# A statically linked program ignores LD_PRELOAD: one line says so; --strict refuses it.
case_static_program() {
    setup
    local program=$T_STATIC_PROGRAM
    run_cmd "$launcher" run -- "$program" "$work/marker"
    expect_eq "$status" 0 "non-strict: status"
    expect_eq "$err" "ocpreempt: $program is statically linked: LD_PRELOAD cannot load the shim into it, so it runs without preemption" "non-strict: the line"
    expect_one_line "$work/stderr" "non-strict"
    expect_file "$work/marker" "non-strict: the program ran"
    rm -f "$work/marker"
    FAKE_PROBE_VERDICT=supported run_cmd "$launcher" run --strict -- "$program" "$work/marker"
    expect_error 2 "ocpreempt: $program is statically linked: LD_PRELOAD cannot load the shim into it; strict mode, not starting it" "--strict"
    expect_no_file "$work/marker" "strict: the program must not run"
    run_cmd "$launcher" run -- "${marker_program[@]}"
    expect_eq "$err" "" "a dynamically linked program: nothing said"
}

case_options_to_env() {
    setup
    FAKE_PROBE_VERDICT=supported run_cmd "$launcher" run --quantum 2ms --yield Sched.yield \
        --stats=s.json --json --trace=t.tsv --deny +Mylib --log info \
        --critical Mylib.Cache.update,Mylib__Pool --sites loop --strict -- env
    expect_eq "$status" 0 "status"
    expect_eq "$(grep -E '^OCPREEMPT_' <<<"$out" | grep -v '^OCPREEMPT_LAUNCHED=' | sort)" "\
OCPREEMPT_CRITICAL=Mylib.Cache.update,Mylib__Pool
OCPREEMPT_DENY=+Mylib
OCPREEMPT_LOG=info
OCPREEMPT_QUANTUM=2ms
OCPREEMPT_SITES=loop
OCPREEMPT_STATS=$work/s.json
OCPREEMPT_STATS_FORMAT=json
OCPREEMPT_STRICT=1
OCPREEMPT_TRACE=$work/t.tsv
OCPREEMPT_YIELD=Sched.yield" "each option sets its variable; paths made absolute"
    run_cmd "$launcher" run --stats -- printenv OCPREEMPT_STATS
    expect_eq "$out" "1" "--stats alone: stderr"
}

case_option_overrides_env() {
    setup
    OCPREEMPT_QUANTUM=3ms OCPREEMPT_LOG=info run_cmd "$launcher" run --quantum 2ms -- \
        sh -c 'echo "$OCPREEMPT_QUANTUM $OCPREEMPT_LOG"'
    expect_eq "$out" "2ms info" "the option wins, other variables stay"
}

case_json_turns_stats_on() {
    setup
    run_cmd "$launcher" run --json -- sh -c 'echo "$OCPREEMPT_STATS $OCPREEMPT_STATS_FORMAT"'
    expect_eq "$out" "1 json" "--json alone"
    OCPREEMPT_STATS=/tmp/kept run_cmd "$launcher" run --json -- sh -c 'echo "$OCPREEMPT_STATS $OCPREEMPT_STATS_FORMAT"'
    expect_eq "$out" "/tmp/kept json" "--json keeps a stats file from the environment"
}

case_debug_log() {
    setup
    run_cmd "$launcher" run --log debug -- true
    expect_eq "$err" "ocpreempt: launcher: LD_PRELOAD=$lib" "--log debug shows the preload"
}

# ---- exec: statuses, signals, arguments ------------------------------------------------

case_exit_status() {
    setup
    local code
    for code in 0 1 3 42 255; do
        run_cmd "$launcher" run -- sh -c "exit $code"
        expect_eq "$status" "$code" "exit $code passes through"
    done
    "$T_WAITSTATUS" "$work/report" "$launcher" run -- sh -c 'exit 3' || fail "waitstatus"
    expect_eq "$(tail -n 1 "$work/report")" "exited 3" "exit 3, as a parent sees it"
}

case_signal_passthrough() {
    setup
    "$T_WAITSTATUS" "$work/report" "$launcher" run -- sh -c 'kill -TERM $$' || fail "waitstatus"
    expect_eq "$(tail -n 1 "$work/report")" "signaled 15" "killed by SIGTERM: WIFSIGNALED"
    "$T_WAITSTATUS" "$work/report" "$launcher" run -- sh -c 'kill -KILL $$' || fail "waitstatus"
    expect_eq "$(tail -n 1 "$work/report")" "signaled 9" "killed by SIGKILL"
    bash -c '"$0" run -- sh -c "kill -TERM \$\$"; echo "status $?"' "$launcher" \
        >"$work/bash.out" 2>/dev/null
    expect_eq "$(<"$work/bash.out")" "status 143" "what bash shows"
}

case_exec_same_pid() {
    setup
    "$T_WAITSTATUS" "$work/report" "$launcher" run -- sh -c 'echo "pid $$" >"$0"' \
        "$work/program.pid" || fail "waitstatus"
    expect_eq "$(<"$work/program.pid")" "$(head -n 1 "$work/report")" \
        "the program is the process the caller started (exec, no wrapper process)"
}

case_program_args() {
    setup
    run_cmd "$launcher" run -- printf '[%s]' 'a b' '' '*' '--x' '-- y' $'line\nbreak'
    expect_eq "$out" "[a b][][*][--x][-- y][line"$'\n'"break]" "arguments unchanged"
    run_cmd "$launcher" run -- sh -c 'echo "$0"' zeroth
    expect_eq "$out" "zeroth" "argument after -c"
}

case_program_not_found() {
    setup
    run_cmd "$launcher" run -- no-such-program-xyz
    expect_error 127 "ocpreempt: run: no-such-program-xyz: command not found" "not found on PATH"
    run_cmd "$launcher" run -- ./missing
    expect_error 127 "ocpreempt: run: ./missing: no such file" "no such file"
    mkdir adir
    run_cmd "$launcher" run -- ./adir
    expect_error 126 "ocpreempt: run: ./adir is a directory, not a program" "a directory"
    run_cmd "$launcher" run -- .
    expect_error 126 "ocpreempt: run: . is a directory, not a program" "the current directory"
    touch plain
    run_cmd "$launcher" run -- ./plain
    expect_error 126 "ocpreempt: run: ./plain: not an executable file" "not executable"
}

# ---- finding the pieces ----------------------------------------------------------------

case_library_missing() {
    setup
    rm "$lib"
    run_cmd "$launcher" run -- "${marker_program[@]}"
    expect_eq "$status" 2 "status"
    expect_match "$err" "^ocpreempt: libocpreempt\.so not found \(looked in .*\); build it with 'cmake --build build' or set OCPREEMPT_LIB=/path/to/libocpreempt\.so$" "message"
    expect_one_line "$work/stderr" "missing library"
    expect_no_file marker "the program must not run"
    OCPREEMPT_LIB=$work/nope.so run_cmd "$launcher" run -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: OCPREEMPT_LIB=$work/nope.so: no such file" "bad OCPREEMPT_LIB"
    rm "$work/prefix/libexec/ocpreempt/ocpreempt-checkenv"
    OCPREEMPT_LIB=$T_FAKE_SHIM run_cmd "$launcher" run -- "${marker_program[@]}"
    expect_eq "$status" 2 "missing checkenv status"
    expect_match "$err" "^ocpreempt: ocpreempt-checkenv not found \(looked next to .*\)$" "missing checkenv"
    expect_no_file marker "the program must not run"
}

case_lib_override() {
    setup
    mkdir -p "$work/elsewhere"
    cp "$T_FAKE_SHIM" "$work/elsewhere/libocpreempt.so"
    OCPREEMPT_LIB=elsewhere/libocpreempt.so run_cmd "$launcher" run -- printenv LD_PRELOAD
    expect_eq "$status" 0 "status"
    expect_eq "$out" "$work/elsewhere/libocpreempt.so" "OCPREEMPT_LIB wins, made absolute"
    # A build tree: checkenv is found next to the library, without an installed one.
    make_source_tree "$work/tree"
    rm "$work/prefix/libexec/ocpreempt/ocpreempt-checkenv"
    OCPREEMPT_LIB=$work/tree/build/shim/libocpreempt.so run_cmd "$launcher" run -- printenv LD_PRELOAD
    expect_eq "$out" "$work/tree/build/shim/libocpreempt.so" "checkenv next to OCPREEMPT_LIB"
}

case_source_layout() {
    make_source_tree "$work/tree"
    run_cmd "$work/tree/scripts/ocpreempt" run -- printenv LD_PRELOAD
    expect_eq "$status" 0 "status"
    expect_eq "$out" "$work/tree/build/shim/libocpreempt.so" "build/shim/libocpreempt.so"
    run_cmd "$work/tree/scripts/ocpreempt" probe prog
    expect_eq "$out" "probe: [prog]" "build/probe/ocpreempt-probe"
}

case_symlinked_launcher() {
    setup
    mkdir -p "$work/bin"
    ln -s "$launcher" "$work/bin/ocpreempt"
    run_cmd "$work/bin/ocpreempt" run -- printenv LD_PRELOAD
    expect_eq "$out" "$lib" "found relative to the real script, not the link"
    PATH=$work/bin:$PATH run_cmd ocpreempt run -- printenv LD_PRELOAD
    expect_eq "$out" "$lib" "run through PATH"
}

# The launcher is a dispatcher and its parts (scripts/lib/ocpreempt/*.sh): without them it
# says so on one line, exit 2, before anything runs; a part is never looked for elsewhere.
case_parts_missing() {
    setup
    local parts=$work/prefix/libexec/ocpreempt/launcher
    run_cmd "$launcher" run -- "${marker_program[@]}"
    expect_eq "$status:$out" "0:ran" "with its parts, the launcher runs the program"
    rm "$parts/stress.sh"
    run_cmd "$launcher" run -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: the launcher's part $parts/stress.sh is missing or unreadable" \
        "one part missing"
    rm -r "$parts"
    make_source_tree "$work/tree"      # the source tree's parts are not the installed launcher's
    run_cmd "$launcher" --version
    expect_error 2 "ocpreempt: the launcher's parts were not found (looked in $work/prefix/bin/lib/ocpreempt and $work/prefix/libexec/ocpreempt/launcher)" \
        "all parts missing"
    rm "$work/marker"
    run_cmd "$launcher" run -- "${marker_program[@]}"
    expect_eq "$status" 2 "status without parts"
    expect_no_file "$work/marker" "the program must not run without the launcher's parts"
}

# CMake's install rules put every piece where the installed launcher looks: the launcher
# installed by `cmake --install` (the real shim, checkenv and probe) runs a program, also
# through a symbolic link from elsewhere, and uses the parts installed beside it.
case_installed_by_cmake() {
    [[ -f ${T_BUILD_DIR-}/CMakeCache.txt ]] || skip "no build tree (T_BUILD_DIR)"
    local prefix=$work/inst
    cmake --install "$T_BUILD_DIR" --prefix "$prefix" >"$work/install.log" 2>&1 ||
        fail "cmake --install failed: $(tail -5 "$work/install.log")"
    local part
    for part in "$T_SOURCE_DIR"/scripts/lib/ocpreempt/*.sh; do
        [[ -f $part ]] || fail "no launcher parts in $T_SOURCE_DIR/scripts/lib/ocpreempt"
        cmp -s "$part" "$prefix/libexec/ocpreempt/launcher/${part##*/}" ||
            fail "${part##*/} is not installed in libexec/ocpreempt/launcher"
    done
    run_cmd "$prefix/bin/ocpreempt" --version
    expect_eq "$status:$out:$err" "0:ocpreempt $T_VERSION:" "installed --version"
    run_cmd "$prefix/bin/ocpreempt" run -- printenv LD_PRELOAD
    expect_eq "$status:$out" "0:$prefix/lib/libocpreempt.so" "installed run"
    mkdir -p "$work/bin"
    ln -s "$prefix/bin/ocpreempt" "$work/bin/ocpreempt"
    PATH=$work/bin:$PATH run_cmd ocpreempt run -- printenv LD_PRELOAD
    expect_eq "$status:$out" "0:$prefix/lib/libocpreempt.so" "installed, through a symbolic link"
    rm "$prefix/libexec/ocpreempt/launcher/run.sh"
    run_cmd "$work/bin/ocpreempt" run -- true
    expect_error 2 "ocpreempt: the launcher's part $prefix/libexec/ocpreempt/launcher/run.sh is missing or unreadable" \
        "the installed launcher uses the installed parts"
}

case_probe_delegates() {
    setup
    run_cmd "$launcher" probe ./prog --json 'a b'
    expect_eq "$status" 5 "the probe's status passes through"
    expect_eq "$out" "probe: [./prog] [--json] [a b]" "arguments passed unchanged"
    run_cmd "$launcher" probe
    expect_error 2 "ocpreempt: probe: missing PROGRAM $hint" "probe without program"
}

case_probe_missing() {
    setup
    rm "$work/prefix/bin/ocpreempt-probe"
    PATH=/usr/bin:/bin run_cmd "$launcher" probe ./prog
    expect_eq "$status" 2 "status"
    expect_match "$err" "^ocpreempt: ocpreempt-probe not found \(looked in .*\)$" "message"
}

# ---- the analysis cache (cache.sh) ------------------------------------------------------

case_cache_path() {
    setup
    HOME=$work/home XDG_CACHE_HOME= run_cmd "$launcher" cache path
    expect_eq "$status:$out:$err" "0:$work/home/.cache/ocpreempt/analysis:" "HOME's cache"
    HOME=$work/home XDG_CACHE_HOME=$work/xdg run_cmd "$launcher" cache path
    expect_eq "$status:$out" "0:$work/xdg/ocpreempt/analysis" "XDG_CACHE_HOME first"
    HOME=$work/home XDG_CACHE_HOME=relative run_cmd "$launcher" cache path
    expect_eq "$status:$out" "0:$work/home/.cache/ocpreempt/analysis" "a relative XDG_CACHE_HOME is ignored"
    XDG_CACHE_HOME=$work/xdg OCPREEMPT_ANALYSIS_CACHE=$work/mine run_cmd "$launcher" cache path
    expect_eq "$status:$out" "0:$work/mine" "OCPREEMPT_ANALYSIS_CACHE first"
    OCPREEMPT_ANALYSIS_CACHE=relative run_cmd "$launcher" cache path
    expect_eq "$status:$out" "2:" "a value the shim refuses"
    expect_contains "$err" "OCPREEMPT_ANALYSIS_CACHE=relative is not off or an absolute path" "the shim's line"
}

case_cache_off() {
    setup
    local sub
    for sub in path clear; do
        OCPREEMPT_ANALYSIS_CACHE=off run_cmd "$launcher" cache $sub
        expect_eq "$status:$out:$err" \
            "1::ocpreempt: the analysis cache is off (OCPREEMPT_ANALYSIS_CACHE=off)" "cache $sub when off"
    done
}

# clear removes the shim's files and nothing else (both halves checked: the check bites).
case_cache_clear() {
    setup
    local dir=$work/cache
    mkdir -p "$dir"
    touch "$dir/0123456789abcdef.oac" "$dir/fedcba9876543210.oac" "$dir/0123456789abcdef.oac.tmp.42.0" \
          "$dir/notes.txt" "$work/outside.oac"
    ln -s "$work/outside.oac" "$dir/link.oac"
    OCPREEMPT_ANALYSIS_CACHE=$dir run_cmd "$launcher" cache clear
    expect_eq "$status:$out:$err" "0::ocpreempt: removed 3 cache files from $dir" "clear"
    expect_no_file "$dir/0123456789abcdef.oac" "a cache file"
    expect_no_file "$dir/0123456789abcdef.oac.tmp.42.0" "a temporary file"
    expect_file "$dir/notes.txt" "another file of the folder"
    expect_file "$work/outside.oac" "a symbolic link's target"
    OCPREEMPT_ANALYSIS_CACHE=$work/none run_cmd "$launcher" cache clear
    expect_eq "$status:$err" "0:ocpreempt: removed 0 cache files from $work/none" "no folder yet"
    expect_no_file "$work/none" "clear creates nothing"
}

case_cache_usage() {
    setup
    run_cmd "$launcher" cache
    expect_error 2 "ocpreempt: cache: missing subcommand: path or clear $hint" "no subcommand"
    run_cmd "$launcher" cache flush
    expect_error 2 "ocpreempt: cache: unknown subcommand flush $hint" "unknown subcommand"
    run_cmd "$launcher" cache clear now
    expect_error 2 "ocpreempt: cache clear: unexpected argument now $hint" "extra argument"
    run_cmd "$launcher" cache --help
    expect_eq "$status" 0 "cache --help"
    expect_contains "$out" "ocpreempt cache path | clear" "cache --help text"
}

# ---- trace and stats files -------------------------------------------------------------

case_output_symlink_refused() {
    setup
    touch real.tsv
    ln -s real.tsv link.tsv
    run_cmd "$launcher" run --trace link.tsv -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: --trace $work/link.tsv is a symbolic link; give the real path" "--trace symlink"
    run_cmd "$launcher" run --stats=link.tsv -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: --stats $work/link.tsv is a symbolic link; give the real path" "--stats symlink"
    ln -s nowhere dangling.tsv
    run_cmd "$launcher" run --trace dangling.tsv -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: --trace $work/dangling.tsv is a symbolic link; give the real path" "dangling symlink"
    expect_no_file nowhere "the link must not be followed"
    expect_no_file marker "the program must not run"
}

case_output_nonregular_refused() {
    setup
    mkdir adir
    mkfifo fifo
    local path
    for path in /dev/null "$work/adir" "$work/fifo"; do
        run_cmd "$launcher" run --trace "$path" -- "${marker_program[@]}"
        expect_error 2 "ocpreempt: run: --trace $path is not a regular file" "--trace $path"
        run_cmd "$launcher" run --stats="$path" -- "${marker_program[@]}"
        expect_error 2 "ocpreempt: run: --stats $path is not a regular file" "--stats $path"
    done
    run_cmd "$launcher" run --trace nodir/t.tsv -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: --trace $work/nodir/t.tsv: directory $work/nodir does not exist" "missing directory"
    expect_no_file marker "the program must not run"
}

case_output_other_owner_refused() {
    ((EUID == 0)) || skip "needs root to give a file to another user"
    setup
    touch theirs.tsv
    chown 65534:65534 theirs.tsv
    run_cmd "$launcher" run --trace theirs.tsv -- "${marker_program[@]}"
    expect_error 2 "ocpreempt: run: --trace $work/theirs.tsv belongs to another user; ocpreempt only writes files you own" "another user's file"
    expect_no_file marker "the program must not run"
}

case_output_file_emptied() {
    setup
    printf 'old run\n' >t.tsv
    printf 'old stats\n' >s.txt
    run_cmd "$launcher" run --trace t.tsv --stats=s.txt -- sh -c 'echo "$OCPREEMPT_TRACE"'
    expect_eq "$status" 0 "status"
    expect_eq "$out" "$work/t.tsv" "absolute path"
    [[ -f t.tsv && ! -s t.tsv ]] || fail "the trace of an earlier run must be emptied"
    [[ -f s.txt && ! -s s.txt ]] || fail "the stats of an earlier run must be emptied"
    # Through the environment the launcher does not touch the file: the shim appends.
    printf 'kept\n' >env.tsv
    OCPREEMPT_TRACE=$work/env.tsv run_cmd "$launcher" run -- true
    expect_eq "$(<env.tsv)" "kept" "a trace named by the environment is left alone"
}

run_case "$@"
