#!/usr/bin/env bash
# eco_repro.sh: one ecosystem reproducer, run many times: N runs at a fixed quantum, then
# one run per chaos seed, each checked by tests/core/run_core_test.sh (exit status, RESULT
# line, expectations); failures are counted, not stopped at.
#
#   eco_repro.sh --program PATH --case CASE [--shim LIB | --no-shim] [--name NAME]
#                [--yield NAME] [--runs N] [--quantum Q] [--seeds LIST] [--rate R]
#                [--forbid-site REGEX] [--expect-result EXPR]... [--expect-chaos-stat EXPR]...
#                [--timeout S] [--log-dir DIR]
#
# --runs N        runs at OCPREEMPT_QUANTUM=Q (default 100us); without the shim, N plain runs
# --seeds LIST    one run per seed under OCPREEMPT_CHAOS=SEED, OCPREEMPT_CHAOS_RATE=R
#                 (default 1024); LIST is e.g. 1-20 or 1,4,5 (shim only)
# --forbid-site REGEX
#                 with the shim, each run also writes a trace (docs/trace.md); a run fails
#                 if the site of any preemption (the trace's fifth field: "function
#                 file:line", or symbol+offset without debuginfo) matches the extended REGEX
# --expect-result EXPR
#                 as run_core_test.sh's, for every run
# --expect-chaos-stat EXPR
#                 run_core_test.sh's --expect-stat, for the chaos runs (e.g. preemptions>=100:
#                 chaos still preempts the program where it may)
# --log-dir DIR   keep every run's report in DIR/<config>.log (default: only failures are
#                 summarised on stdout)
#
# Prints one line per run and a summary:
#   SUMMARY <name>: quantum 100us: F/N failed; chaos 1024/MiB seeds 1-20: F/20 failed (seeds
#   ...); chaos runs without a preemption: K
# ("without a preemption": the run passed but chaos performed none, so it proved nothing).
# Exit status: 0 every run passed, 1 some run failed, 2 usage error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runner=$here/../core/run_core_test.sh

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit 2; }
die_usage() { echo "eco_repro.sh: $*" >&2; exit 2; }

program="" case_name="" shim="" name="" yield="" runs=0 quantum=100us seeds="" rate=1024
forbid="" timeout_s=300 log_dir=""
expects=() stat_expects=()
while [ $# -gt 0 ]; do
    case $1 in
        --program) program=${2:?}; shift 2 ;;
        --case) case_name=${2:?}; shift 2 ;;
        --shim) shim=${2:?}; shift 2 ;;
        --no-shim) shim=""; shift ;;
        --name) name=${2:?}; shift 2 ;;
        --yield) yield=${2?}; shift 2 ;;
        --runs) [[ ${2:-} =~ ^[0-9]+$ ]] || die_usage "--runs wants a number"; runs=$2; shift 2 ;;
        --quantum) quantum=${2:?}; shift 2 ;;
        --seeds) seeds=${2:?}; shift 2 ;;
        --rate) rate=${2:?}; shift 2 ;;
        --forbid-site) forbid=${2:?}; shift 2 ;;
        --expect-result) expects+=(--expect-result "${2:?}"); shift 2 ;;
        --expect-chaos-stat) stat_expects+=(--expect-stat "${2:?}"); shift 2 ;;
        --timeout) timeout_s=${2:?}; shift 2 ;;
        --log-dir) log_dir=${2:?}; shift 2 ;;
        -h|--help) usage ;;
        *) die_usage "unknown argument '$1' (see --help)" ;;
    esac
done
[ -n "$program" ] && [ -n "$case_name" ] || die_usage "--program and --case are required"
[ -n "$name" ] || name="$(basename "$program")_$case_name"
if [ -z "$shim" ] && { [ -n "$seeds" ] || [ -n "$forbid" ] || ((${#stat_expects[@]} > 0)); }; then
    die_usage "--seeds, --forbid-site and --expect-chaos-stat need --shim"
fi
((runs > 0)) || [ -n "$seeds" ] || die_usage "nothing to run: give --runs and/or --seeds"

# expand_seeds "1-3,7" -> "1 2 3 7"
expand_seeds() {
    local part out=() a b
    IFS=, read -ra parts <<<"$1"
    for part in "${parts[@]}"; do
        if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
            a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]}
            ((a <= b)) || die_usage "bad seed range '$part'"
            out+=($(seq "$a" "$b"))
        elif [[ $part =~ ^[0-9]+$ ]]; then
            out+=("$part")
        else
            die_usage "bad seed list '$1' (want e.g. 1-20 or 1,4,5)"
        fi
    done
    echo "${out[@]}"
}
seed_list=()
[ -z "$seeds" ] || read -ra seed_list <<<"$(expand_seeds "$seeds")"

work=$(mktemp -d "${TMPDIR:-/tmp}/eco_repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
[ -z "$log_dir" ] || mkdir -p "$log_dir"

# run_config LABEL ENV... : one run; sets run_ok (1 passed) and run_preemptions (or "?")
run_config() {
    local label=$1
    shift
    local args=(--program "$program" --name "${name}_$label" --timeout "$timeout_s")
    if [ -n "$shim" ]; then
        args+=(--shim "$shim")
        [[ $label != chaos* ]] || args+=(${stat_expects[@]+"${stat_expects[@]}"})
        [ -z "$yield" ] || args+=(--env "OCPREEMPT_YIELD=$yield")
    else
        args+=(--no-shim)
    fi
    local kv trace=$work/$label.trace
    for kv in "$@"; do args+=(--env "$kv"); done
    [ -z "$forbid" ] || { rm -f "$trace"; args+=(--env "OCPREEMPT_TRACE=$trace"); }
    local log=$work/$label.log status=0
    "$runner" "${args[@]}" ${expects[@]+"${expects[@]}"} -- "$case_name" >"$log" 2>&1 || status=$?
    run_preemptions=$(grep -m1 -o ' preemptions=[0-9]*' "$log" | cut -d= -f2 || true)
    [ -n "$run_preemptions" ] || run_preemptions="?"
    local why=""
    if [ "$status" != 0 ]; then
        # the runner's first complaint, and what the program said (its FAIL line or the
        # runtime's "Fatal error" line)
        why=$(grep -m1 '^  - ' "$log" | sed 's/^  - //' | cut -c1-100 || true)
        [ -n "$why" ] || why="runner exit status $status"
        local said
        said=$(grep -m1 -E '^(FAIL |Fatal error)' "$log" | cut -c1-140 || true)
        [ -z "$said" ] || [[ $why == *"$said"* ]] || why+=": $said"
    fi
    if [ -n "$forbid" ] && [ "$status" = 0 ]; then
        local hits
        hits=$(grep -v -e '^#' -e '^$' "$trace" 2>/dev/null | cut -f5 | grep -cE -- "$forbid" || true)
        if [ "$hits" != 0 ]; then
            why="$hits preemptions at sites matching /$forbid/: $(grep -v -e '^#' -e '^$' "$trace" |
                cut -f5 | grep -E -- "$forbid" | sort | uniq -c | sort -rn | head -3 |
                awk '{ $1 = $1 "x"; print }' | paste -sd ';' -)"
            status=1
        fi
    fi
    [ -z "$log_dir" ] || cp "$log" "$log_dir/$label.log"
    if [ "$status" = 0 ]; then
        run_ok=1
        echo "  $label: passed (preemptions=$run_preemptions)"
    else
        run_ok=0
        echo "  $label: FAILED: $why"
    fi
}

summary="SUMMARY $name:"
total_failed=0
if ((runs > 0)); then
    failed=0
    for ((k = 1; k <= runs; k++)); do
        if [ -n "$shim" ]; then
            run_config "q${quantum}_run$k" "OCPREEMPT_QUANTUM=$quantum"
        else
            run_config "noshim_run$k"
        fi
        ((run_ok)) || failed=$((failed + 1))
    done
    if [ -n "$shim" ]; then
        summary+=" quantum $quantum: $failed/$runs failed;"
    else
        summary+=" without the shim: $failed/$runs failed;"
    fi
    total_failed=$((total_failed + failed))
fi
if ((${#seed_list[@]} > 0)); then
    failed=0 failed_seeds=() idle=0
    for seed in "${seed_list[@]}"; do
        run_config "chaos${seed}" "OCPREEMPT_CHAOS=$seed" "OCPREEMPT_CHAOS_RATE=$rate"
        if ((run_ok)); then
            [ "$run_preemptions" != 0 ] || idle=$((idle + 1))
        else
            failed=$((failed + 1))
            failed_seeds+=("$seed")
        fi
    done
    summary+=" chaos $rate/MiB seeds $seeds: $failed/${#seed_list[@]} failed"
    ((failed == 0)) || summary+=" (seeds ${failed_seeds[*]})"
    summary+="; chaos runs without a preemption: $idle"
    total_failed=$((total_failed + failed))
fi
echo "${summary%;}"
((total_failed == 0))
