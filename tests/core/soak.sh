#!/usr/bin/env bash
# soak.sh: run the core programs under the shim, over and over, until a target number of
# preemptions is reached (default 10^7), every run checked as in the stress tests; print
# the total. The `soak` ctest label (not in the default test command) runs it.
#
#   soak.sh --runner run_core_test.sh --programs DIR --shim LIB --table FILE
#           [--target N] [--jobs J] [--work DIR]
#
# FILE (written by tests/core/CMakeLists.txt from the stress table) has one line per
# program: `NAME SCALE RUNNER-ARGS...` (the stress test's own checks: kernel results,
# preempted == preemptions, program-specific ones, and the stress quantum). Each round
# runs every program in three configurations:
#   normal   as in the table (the *_d programs are the debug runtime with
#            OCAMLRUNPARAM=V=1: heap verified at the end of every major cycle)
#   busy-gc  the same with OCAMLRUNPARAM=s=4k added (a 4k-word minor heap: a minor
#            collection every few microseconds of allocation, so preemptions meet GCs)
# until the preemptions summed over all runs reach N. Requests come from the monitor, the
# only request path (signal mode is retired). J runs go at once (default 2).
#
# Output: one line per run (`soak: +N name/config (total T, S s)`), then
#   soak: total T preemptions in R runs, S s (normal runtime A, debug runtime B;
#         busy GC C); target N reached
# Exit status: 0 target reached with every run correct; 1 a run failed (its report is
# printed, the soak stops); 2 usage.
set -euo pipefail

runner="" programs="" shim="" table="" target=10000000 jobs=2 work=""
while [ $# -gt 0 ]; do
    case $1 in
        --runner) runner=${2:?}; shift 2 ;;
        --programs) programs=${2:?}; shift 2 ;;
        --shim) shim=${2:?}; shift 2 ;;
        --table) table=${2:?}; shift 2 ;;
        --target) target=${2:?}; shift 2 ;;
        --jobs) jobs=${2:?}; shift 2 ;;
        --work) work=${2:?}; shift 2 ;;
        *) echo "soak.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
for v in runner programs shim table; do
    [ -n "${!v}" ] || { echo "soak.sh: --$v is required" >&2; exit 2; }
done
[[ $target =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]] ||
    { echo "soak.sh: --target and --jobs want positive integers" >&2; exit 2; }
[ -f "$table" ] || { echo "soak.sh: no program table $table (configure the build)" >&2; exit 2; }

work=${work:-$(mktemp -d "${TMPDIR:-/tmp}/ocpreempt-soak.XXXXXX")}
mkdir -p "$work"
log=$work/stats.log
: >"$log"
start=$SECONDS

# with_busy_gc ARGS...: the runner args with s=4k added to OCAMLRUNPARAM (an existing
# --env OCAMLRUNPARAM=X becomes X,s=4k; else one is added).
with_busy_gc() {
    local out=() found=0
    while [ $# -gt 0 ]; do
        if [[ $1 == --env && ${2:-} == OCAMLRUNPARAM=* ]]; then
            out+=(--env "$2,s=4k"); found=1; shift 2
        else
            out+=("$1"); shift
        fi
    done
    ((found)) || out+=(--env OCAMLRUNPARAM=s=4k)
    printf '%s\n' "${out[@]}"
}

# one_run NAME CONFIG SCALE ARGS...: runs the program, appends its stats to the log
# (entry name NAME/CONFIG), keeps the runner's report in $work/NAME.CONFIG.out.
one_run() {
    local name=$1 config=$2 scale=$3
    shift 3
    local args=("$@")
    [ "$config" = normal ] || mapfile -t args < <(with_busy_gc "$@")
    "$runner" --name "$name/$config" --program "$programs/core_$name" --shim "$shim" \
        --timeout 1800 --stats-log "$log" "${args[@]}" -- "$scale" \
        >"$work/$name.$config.out" 2>&1
}

total() { # total [REGEX]: preemptions summed over the log lines whose name matches
    awk -v re="${1:-.}" '$1 ~ re { for (i = 2; i <= NF; i++) if ($i ~ /^preemptions=/) {
        split($i, kv, "="); s += kv[2] } } END { printf "%.0f", s + 0 }' "$log"
}

runs=0 failed=""
# wait_one: reaps one finished run; records a failure.
wait_one() {
    local rc=0
    wait -n -p done_pid || rc=$?
    local what=${running[$done_pid]}
    unset "running[$done_pid]"
    runs=$((runs + 1))
    if ((rc != 0)); then
        failed=$what
        return
    fi
    local name=${what%%/*} config=${what#*/}
    local got
    got=$(awk -v n="$what" '$1 == n { for (i = 2; i <= NF; i++) if ($i ~ /^preemptions=/) {
        split($i, kv, "="); v = kv[2] } } END { print v + 0 }' "$log")
    echo "soak: +$got $what (total $(total), $((SECONDS - start)) s)"
    rm -f "$work/$name.$config.out"
}

declare -A running=()
mapfile -t entries < <(grep -v '^[[:space:]]*\(#\|$\)' "$table")
round=0
while [ -z "$failed" ] && (($(total) < target)); do
    round=$((round + 1))
    for config in normal busy-gc; do
        for entry in "${entries[@]}"; do
            read -r -a fields <<<"$entry"
            while ((${#running[@]} >= jobs)); do wait_one; done
            [ -z "$failed" ] && (($(total) < target)) || break 2
            one_run "${fields[0]}" "$config" "${fields[1]}" "${fields[@]:2}" &
            running[$!]="${fields[0]}/$config"
        done
    done
done
while ((${#running[@]} > 0)); do wait_one; done

if [ -n "$failed" ]; then
    echo "soak: FAILED at $failed after $runs runs, $((SECONDS - start)) s, $(total) preemptions"
    cat "$work/${failed%%/*}.${failed#*/}.out"
    exit 1
fi
all=$(total) debug=$(total '_d/')
echo "soak: total $all preemptions in $runs runs, $((SECONDS - start)) s" \
     "(normal runtime $((all - debug)), debug runtime $debug; busy GC $(total '/busy-gc$'));" \
     "target $target reached"
