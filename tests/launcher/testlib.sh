# shellcheck shell=bash
# testlib.sh: what the launcher, checkenv and plot test drivers share (sourced, not run).
#
# A driver is run by CTest as `bash DRIVER.sh CASE`; it defines functions named
# case_<CASE> and ends with `run_case "$@"`. Invariants:
#  - each case runs in a fresh directory $work (under T_WORK) with no OCPREEMPT_* variable
#    and no LD_PRELOAD inherited from whoever runs the tests;
#  - a failed expectation prints "FAIL: <case>: what, got, expected" and exits 1; exit 0
#    means every expectation held; 77 means skipped (with the reason);
#  - outputs are compared as whole texts wherever the text is part of the interface.
# Inputs from CMake (tests/launcher/CMakeLists.txt): T_SOURCE_DIR, T_CHECKENV, T_FAKE_SHIM,
# T_WAITSTATUS, T_VERSION, T_WORK; launcher_test's installed_by_cmake also T_BUILD_DIR.
set -u -o pipefail

for variable in $(compgen -e); do
    [[ $variable == OCPREEMPT_* ]] && unset "$variable"
done
unset LD_PRELOAD variable
# A real shim started by a case keeps its analysis cache under T_WORK, never in ~/.cache.
export XDG_CACHE_HOME=${T_WORK:-/tmp}/xdg-cache

test_case=""
work=""
out=""
err=""
status=0

fail() {
    printf 'FAIL: %s: %s\n' "$test_case" "$*" >&2
    exit 1
}

skip() {
    printf 'SKIPPED: %s\n' "$*"
    exit 77
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
    [[ $1 == "$2" ]] || fail "$3:"$'\n'"--- got:"$'\n'"$1"$'\n'"--- expected:"$'\n'"$2"
}

# expect_match ACTUAL EXTENDED_REGEX WHAT
expect_match() {
    [[ $1 =~ $2 ]] || fail "$3: [$1] does not match /$2/"
}

# expect_contains ACTUAL PART WHAT
expect_contains() {
    [[ $1 == *"$2"* ]] || fail "$3: [$1] does not contain [$2]"
}

expect_file() { [[ -e $1 ]] || fail "$2: $1 does not exist"; }
expect_no_file() { [[ ! -e $1 ]] || fail "$2: $1 exists"; }

# run_cmd COMMAND...: sets out, err (texts, trailing newlines stripped) and status; the raw
# outputs stay in $work/stdout and $work/stderr for line counts.
run_cmd() {
    "$@" >"$work/stdout" 2>"$work/stderr"
    status=$?
    out=$(<"$work/stdout")
    err=$(<"$work/stderr")
}

# expect_one_line FILE WHAT: exactly one newline-terminated line.
expect_one_line() {
    local lines
    lines=$(wc -l <"$1")
    [[ $lines == 1 && $(tail -c 1 "$1" | od -An -c | tr -d ' ') == '\n' ]] ||
        fail "$2: expected exactly one line, got $lines: $(cat "$1")"
}

# expect_error STATUS LINE WHAT: the last command failed with STATUS, printed exactly LINE
# (one line) on stderr and nothing on stdout.
expect_error() {
    expect_eq "$status" "$1" "$3: exit status"
    expect_eq "$err" "$2" "$3: stderr"
    expect_one_line "$work/stderr" "$3: stderr"
    expect_eq "$out" "" "$3: stdout"
}

run_case() {
    test_case=${1-}
    [[ -n $test_case ]] || { echo "usage: $0 CASE" >&2; exit 2; }
    declare -F "case_$test_case" >/dev/null || { echo "$0: no case $test_case" >&2; exit 2; }
    work=$T_WORK/$test_case
    rm -rf -- "$work"
    mkdir -p -- "$work" || exit 2
    cd -- "$work" || exit 2
    "case_$test_case"
    echo "$test_case: passed"
}
