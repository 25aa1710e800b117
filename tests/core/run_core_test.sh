#!/usr/bin/env bash
# run_core_test.sh: run one core test program (with or without the ocpreempt shim) and
# check its exit status, its RESULT line and the shim's stats line.
#
#   run_core_test.sh --program PATH [--shim LIB | --no-shim] [--name NAME]
#                    [--env K=V]... [--timeout SECONDS]
#                    [--expect-stat EXPR]... [--expect-result EXPR]...
#                    [--expect-stat-per-cpu-s EXPR]...
#                    [--expect-result-equals-stat RESULT_KEY=STAT_KEY]...
#                    [--expect-fail REGEX] [--compare-output-with-no-shim] [--compete N]
#                    [--expect-stderr-count N:REGEX]...
#                    [--allow-no-stats] [--expect-no-stderr] [--stats-log FILE]
#                    [-- PROGRAM_ARGS...]
#
#   run_core_test.sh --sum-stats-log FILE [--expect-total EXPR]...
#                    [--expect-total-per-cpu-s EXPR]... [--match REGEX] [--expect-entries N]
#
# EXPR is KEY OP NUMBER with OP one of >= <= == != < > (e.g. 'preemptions>=100',
# 'worst_gap_ms<250'); numbers may be decimals.
#
# Program contract (tests/core/programs/tcommon.ml): on success, exit 0 and print one
# line "RESULT <name> key=value ..." on stdout; on failure print "FAIL <name>: ..." and
# exit 1. Shim contract: with OCPREEMPT_STATS=1 it prints one line
# "ocpreempt: stats: key=value ..." on stderr at exit.
#
# With --shim, the runner sets LD_PRELOAD=LIB OCPREEMPT_STATS=1 OCPREEMPT_YIELD=Sched.yield
# OCPREEMPT_QUANTUM=1ms before applying --env (so --env overrides them; --env K= sets K to
# the empty string). With --no-shim (the default) LD_PRELOAD is removed from the
# environment and --expect-stat is an error. Other OCPREEMPT_* variables of the caller's
# environment pass through: `OCPREEMPT_VERIFY=1 ctest -L core` runs every with-shim test
# with each landing decision checked against the reference walk (an abort fails the test).
#
# --expect-stat-per-cpu-s EXPR: the stats value of KEY divided by the CPU time, in
#   seconds, that the fibers got (RESULT fiber_cpu_ms: the threads running Sched.run)
#   must satisfy EXPR. Preemption counts are checked this way: on a loaded machine a
#   program gets less CPU, hence fewer quanta, in the same wall time.
# --expect-fail REGEX: the program must exit 1 with a FAIL line matching REGEX (used to
#   prove that a detector bites); RESULT checks are then skipped.
# --compare-output-with-no-shim: also run the program without the shim (and without
#   any OCPREEMPT_* variable) and require byte-identical stdout.
# --expect-stderr-count N:REGEX: exactly N lines of stderr match the extended REGEX (e.g.
#   a warning the shim must say once).
# --allow-no-stats: with --shim, a missing stats line is accepted (the shim disabled
#   itself, e.g. no yield function in the program) and --expect-stat is then skipped.
# --expect-no-stderr: the program (and the shim) must write nothing on stderr.
# --compete N: run the program pinned to one CPU beside N busy loops pinned to the same
#   CPU, so that it gets about 1/(N+1) of it: a loaded machine on demand (taskset).
# --stats-log FILE: append "NAME key=value ..." (the stats, and the RESULT's
#   fiber_cpu_ms) to FILE, for --sum-stats-log.
# --sum-stats-log FILE: sum each stats key over the lines of FILE whose NAME matches
#   --match, check --expect-total against the sums and --expect-total-per-cpu-s against
#   the sums divided by the summed fiber CPU seconds. Exits 77 (ctest: skipped) if fewer
#   than --expect-entries lines match (a partial run: totals would be meaningless).
#
# Exit status: 0 pass, 1 fail, 2 usage error, 77 skipped.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

die_usage() { echo "run_core_test.sh: $*" >&2; exit 2; }

program="" shim="" use_shim=0 name="" timeout_s=120 expect_fail="" compare=0 stats_log=""
allow_no_stats=0 expect_no_stderr=0 compete=0
sum_log="" match="." expect_entries=0
envs=() expect_stats=() expect_results=() equals=() expect_totals=() prog_args=()
stderr_counts=() expect_rates=() expect_total_rates=()

while [ $# -gt 0 ]; do
    case $1 in
        --program) program=${2:?}; shift 2 ;;
        --shim) shim=${2:?}; use_shim=1; shift 2 ;;
        --no-shim) use_shim=0; shift ;;
        --name) name=${2:?}; shift 2 ;;
        --env) [[ ${2:-} == *=* ]] || die_usage "--env wants K=V, got '${2:-}'"
               envs+=("$2"); shift 2 ;;
        --timeout) timeout_s=${2:?}; shift 2 ;;
        --expect-stat) expect_stats+=("${2:?}"); shift 2 ;;
        --expect-result) expect_results+=("${2:?}"); shift 2 ;;
        --expect-stat-per-cpu-s) expect_rates+=("${2:?}"); shift 2 ;;
        --expect-total-per-cpu-s) expect_total_rates+=("${2:?}"); shift 2 ;;
        --expect-result-equals-stat) [[ ${2:-} == *=* ]] || die_usage "$1 wants RKEY=SKEY"
               equals+=("$2"); shift 2 ;;
        --expect-fail) expect_fail=${2:?}; shift 2 ;;
        --compare-output-with-no-shim) compare=1; shift ;;
        --expect-stderr-count) [[ ${2:-} =~ ^[0-9]+: ]] || die_usage "$1 wants N:REGEX"
               stderr_counts+=("$2"); shift 2 ;;
        --allow-no-stats) allow_no_stats=1; shift ;;
        --expect-no-stderr) expect_no_stderr=1; shift ;;
        --compete) [[ ${2:-} =~ ^[0-9]+$ ]] || die_usage "--compete wants a number of busy loops"
                   compete=$2; shift 2 ;;
        --stats-log) stats_log=${2:?}; shift 2 ;;
        --sum-stats-log) sum_log=${2:?}; shift 2 ;;
        --expect-total) expect_totals+=("${2:?}"); shift 2 ;;
        --match) match=${2:?}; shift 2 ;;
        --expect-entries) expect_entries=${2:?}; shift 2 ;;
        -h|--help) usage ;;
        --) shift; prog_args=("$@"); break ;;
        *) die_usage "unknown argument '$1' (see --help)" ;;
    esac
done

# --- expressions ------------------------------------------------------------------------

# parse_expr EXPR -> sets ex_key ex_op ex_num, or returns 1
parse_expr() {
    if [[ $1 =~ ^([A-Za-z0-9_]+)(\>=|\<=|==|!=|\<|\>)(-?[0-9]+(\.[0-9]+)?)$ ]]; then
        ex_key=${BASH_REMATCH[1]} ex_op=${BASH_REMATCH[2]} ex_num=${BASH_REMATCH[3]}
        return 0
    fi
    return 1
}

is_number() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; }

# compare A OP B (numerically, decimals allowed)
compare_num() {
    awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
        a += 0; b += 0
        if (op == ">=") r = a >= b; else if (op == "<=") r = a <= b
        else if (op == "==") r = a == b; else if (op == "!=") r = a != b
        else if (op == "<") r = a < b; else r = a > b
        exit !r }'
}

for e in ${expect_stats[@]+"${expect_stats[@]}"} ${expect_results[@]+"${expect_results[@]}"} \
         ${expect_totals[@]+"${expect_totals[@]}"} ${expect_rates[@]+"${expect_rates[@]}"} \
         ${expect_total_rates[@]+"${expect_total_rates[@]}"}; do
    parse_expr "$e" || die_usage "bad expectation '$e' (want KEY OP NUMBER, OP in >= <= == != < >)"
done

# --- mode 2: totals over a stats log ----------------------------------------------------

if [ -n "$sum_log" ]; then
    [ $((${#expect_totals[@]} + ${#expect_total_rates[@]})) -gt 0 ] ||
        die_usage "--sum-stats-log needs --expect-total or --expect-total-per-cpu-s"
    if [ ! -f "$sum_log" ]; then
        echo "SKIP: no stats log $sum_log (no stress test ran)"
        exit 77
    fi
    entries=$(awk -v re="$match" '$1 ~ re' "$sum_log" | wc -l)
    echo "stats log $sum_log: $entries entries matching /$match/"
    awk -v re="$match" '$1 ~ re { print "  " $0 }' "$sum_log"
    if [ "$entries" -lt "$expect_entries" ]; then
        echo "SKIP: partial run ($entries of $expect_entries expected entries); totals not checked"
        exit 77
    fi
    sum_key() { # sum_key KEY: KEY summed over the matching lines
        awk -v re="$match" -v key="$1" '
            $1 ~ re { for (i = 2; i <= NF; i++) { split($i, kv, "=");
                      if (kv[1] == key && kv[2] ~ /^-?[0-9]+(\.[0-9]+)?$/) s += kv[2] } }
            END { printf "%.3f", s + 0 }' "$sum_log"
    }
    status=0
    for e in ${expect_totals[@]+"${expect_totals[@]}"}; do
        parse_expr "$e"
        total=$(sum_key "$ex_key")
        total=${total%.000}
        if compare_num "$total" "$ex_op" "$ex_num"; then
            echo "ok: total $ex_key = $total ($e)"
        else
            echo "FAILED: total $ex_key = $total, expected $e"
            status=1
        fi
    done
    cpu_ms=$(sum_key fiber_cpu_ms)
    for e in ${expect_total_rates[@]+"${expect_total_rates[@]}"}; do
        parse_expr "$e"
        total=$(sum_key "$ex_key")
        total=${total%.000}
        if ! compare_num "$cpu_ms" ">" 0; then
            echo "FAILED: no fiber CPU time in the log (programs must report fiber_cpu_ms)"
            status=1
            continue
        fi
        rate=$(awk -v t="$total" -v c="$cpu_ms" 'BEGIN { printf "%.1f", t / (c / 1000) }')
        if compare_num "$rate" "$ex_op" "$ex_num"; then
            echo "ok: total $ex_key = $total over $cpu_ms ms of fiber CPU: $rate per CPU second ($e)"
        else
            echo "FAILED: total $ex_key = $total over $cpu_ms ms of fiber CPU: $rate per CPU second, expected $e"
            status=1
        fi
    done
    exit $status
fi

# --- mode 1: run a program --------------------------------------------------------------

[ -n "$program" ] || die_usage "--program is required (see --help)"
[ -n "$name" ] || name=$(basename "$program")
if [ ! -x "$program" ]; then
    echo "FAILED $name: program $program does not exist or is not executable" \
         "(build it: cmake --build <builddir> --target core_programs)"
    exit 1
fi
if [ "$use_shim" = 1 ] && [ ! -f "$shim" ]; then
    echo "FAILED $name: shim $shim does not exist (build target ocpreempt)"
    exit 1
fi
if [ "$use_shim" = 0 ] && { [ ${#expect_stats[@]} -gt 0 ] || [ ${#equals[@]} -gt 0 ] ||
                            [ -n "$stats_log" ] || [ ${#expect_rates[@]} -gt 0 ]; }; then
    die_usage "--expect-stat/--expect-stat-per-cpu-s/--expect-result-equals-stat/--stats-log need --shim"
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/core_test.XXXXXX")
trap 'rm -rf "$workdir"' EXIT

# true if --env sets variable $1
env_given() { local kv; for kv in ${envs[@]+"${envs[@]}"}; do [ "${kv%%=*}" != "$1" ] || return 0; done; return 1; }

cmd=(env)
if [ "$use_shim" = 1 ]; then
    shim=$(realpath "$shim")
    cmd+=("LD_PRELOAD=$shim")
    for kv in OCPREEMPT_STATS=1 OCPREEMPT_YIELD=Sched.yield OCPREEMPT_QUANTUM=1ms; do
        env_given "${kv%%=*}" || cmd+=("$kv")
    done
else
    cmd+=(-u LD_PRELOAD)
fi
cmd+=(${envs[@]+"${envs[@]}"} timeout --kill-after=10 "$timeout_s")
competitors=()
if [ "$compete" -gt 0 ]; then
    command -v taskset >/dev/null || { echo "SKIP: --compete needs taskset (util-linux)"; exit 77; }
    # the first CPU this shell may run on
    cpu=$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')
    for ((i = 0; i < compete; i++)); do
        taskset -c "$cpu" sh -c 'while :; do :; done' &
        competitors+=($!)
    done
    # cleanup only: under set -e a failing kill (a loop already gone) would end the trap
    # with status 1 and turn a PASS into a failure
    trap 'kill "${competitors[@]}" 2>/dev/null || :; rm -rf "$workdir"' EXIT
    cmd+=(taskset -c "$cpu")
fi
cmd+=("$program" ${prog_args[@]+"${prog_args[@]}"})

# the command as a copy-pasteable line
quote_cmd() { local s="" a; for a in "$@"; do s+="$(printf '%q' "$a") "; done; echo "${s% }"; }

failures=() notes=()
fail() { failures+=("$*"); }

run_one() { # run_one OUT ERR CMD... ; sets run_rc, run_secs
    local out=$1 err=$2; shift 2
    local t0 t1
    t0=$(date +%s.%N)
    run_rc=0
    "$@" >"$out" 2>"$err" || run_rc=$?
    t1=$(date +%s.%N)
    run_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

out=$workdir/stdout err=$workdir/stderr
run_one "$out" "$err" "${cmd[@]}"
rc=$run_rc secs=$run_secs
[ ${#competitors[@]} -eq 0 ] || kill "${competitors[@]}" 2>/dev/null || true

case $rc in
    124|137) fail "timed out after ${timeout_s}s (exit $rc): a deadlock or a starved fiber?" ;;
esac

fail_lines=$(grep -E '^FAIL ' "$out" || true)
result_lines=$(grep -E '^RESULT ' "$out" || true)
stats_lines=$(grep -E '^ocpreempt: stats: ' "$err" || true)

declare -A R=() S=()
parse_kv() { # parse_kv ARRAYNAME "k=v k=v ..."
    local -n arr=$1
    local tok
    for tok in $2; do
        [[ $tok == *=* ]] || continue
        arr[${tok%%=*}]=${tok#*=}
    done
}

if [ -n "$expect_fail" ]; then
    if [ "$rc" != 1 ]; then
        fail "expected the program to fail (exit 1, FAIL line matching /$expect_fail/), got exit $rc"
    elif ! grep -E '^FAIL ' "$out" | grep -qE -- "$expect_fail"; then
        fail "expected a FAIL line matching /$expect_fail/, got: ${fail_lines:-none}"
    fi
else
    if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$rc" != 137 ]; then
        if [ "$rc" -gt 128 ]; then
            fail "program killed by signal $((rc - 128)) (exit $rc)"
        else
            fail "program exited with status $rc"
        fi
    fi
    [ -z "$fail_lines" ] || fail "program reported: $fail_lines"
    n_result=$(printf '%s' "$result_lines" | grep -c '^RESULT ' || true)
    if [ "$n_result" != 1 ]; then
        fail "expected exactly one RESULT line on stdout, found $n_result"
    else
        parse_kv R "$(printf '%s' "$result_lines" | cut -d' ' -f3-)"
    fi
fi

if [ "$expect_no_stderr" = 1 ] && [ -s "$err" ]; then
    fail "expected nothing on stderr, got: $(head -c 400 "$err")"
fi

n_stats=$(printf '%s' "$stats_lines" | grep -c '^ocpreempt: stats: ' || true)
if [ "$use_shim" = 1 ]; then
    need_stats=0
    if [ ${#expect_stats[@]} -gt 0 ] || [ ${#equals[@]} -gt 0 ] || [ -n "$stats_log" ] ||
       [ ${#expect_rates[@]} -gt 0 ]; then
        need_stats=1
    fi
    if [ "$n_stats" = 0 ] && [ "$allow_no_stats" = 1 ]; then
        notes+=("no stats line (accepted: --allow-no-stats); shim said: $(grep -m1 '^ocpreempt:' "$err" || echo nothing)")
    elif [ "$n_stats" = 0 ] && [ "$need_stats" = 1 ]; then
        fail "no 'ocpreempt: stats:' line on stderr: was the shim loaded (LD_PRELOAD) and OCPREEMPT_STATS=1?"
    elif [ "$n_stats" -gt 1 ]; then
        fail "$n_stats 'ocpreempt: stats:' lines on stderr (the contract is one)"
    elif [ "$n_stats" = 1 ]; then
        parse_kv S "${stats_lines#ocpreempt: stats: }"
    fi
elif [ "$n_stats" != 0 ]; then
    fail "a stats line appeared without the shim (LD_PRELOAD leaked?)"
fi

check_exprs() { # check_exprs ARRAYNAME WHAT EXPR...
    local -n vals=$1
    local what=$2 e v
    shift 2
    for e in "$@"; do
        parse_expr "$e"
        if [ -z "${vals[$ex_key]+set}" ]; then
            fail "$what has no key '$ex_key' (wanted $e)"
            continue
        fi
        v=${vals[$ex_key]}
        if ! is_number "$v"; then
            fail "$what $ex_key=$v is not a number (wanted $e)"
        elif ! compare_num "$v" "$ex_op" "$ex_num"; then
            fail "$what $ex_key=$v, expected $e"
        fi
    done
}

if [ -z "$expect_fail" ] && [ ${#R[@]} -gt 0 ]; then
    [ ${#expect_results[@]} -eq 0 ] || check_exprs R "RESULT" "${expect_results[@]}"
elif [ -z "$expect_fail" ] && [ ${#expect_results[@]} -gt 0 ]; then
    fail "cannot check ${expect_results[*]}: no RESULT"
fi
if [ "$n_stats" = 1 ]; then
    [ ${#expect_stats[@]} -eq 0 ] || check_exprs S "stats" "${expect_stats[@]}"
    for eq in ${equals[@]+"${equals[@]}"}; do
        rk=${eq%%=*} sk=${eq#*=}
        if [ -z "${R[$rk]+set}" ] || [ -z "${S[$sk]+set}" ]; then
            fail "cannot compare RESULT $rk with stats $sk: missing key"
        elif ! compare_num "${R[$rk]}" "==" "${S[$sk]}"; then
            fail "RESULT $rk=${R[$rk]} differs from stats $sk=${S[$sk]}"
        fi
    done
    for e in ${expect_rates[@]+"${expect_rates[@]}"}; do
        parse_expr "$e"
        cpu=${R[fiber_cpu_ms]-}
        if [ -z "$cpu" ] || ! is_number "$cpu"; then
            fail "cannot check $e: the RESULT has no fiber_cpu_ms"
        elif ! compare_num "$cpu" ">" 0; then
            fail "cannot check $e: the fibers got no CPU time (fiber_cpu_ms=$cpu)"
        elif [ -z "${S[$ex_key]+set}" ]; then
            fail "stats has no key '$ex_key' (wanted $e)"
        else
            rate=$(awk -v v="${S[$ex_key]}" -v c="$cpu" 'BEGIN { printf "%.1f", v / (c / 1000) }')
            compare_num "$rate" "$ex_op" "$ex_num" ||
                fail "stats $ex_key=${S[$ex_key]} over ${cpu} ms of fiber CPU is $rate per CPU second, expected $e"
        fi
    done
    if [ -n "$stats_log" ]; then
        printf '%s %s%s\n' "$name" "${stats_lines#ocpreempt: stats: }" \
            "${R[fiber_cpu_ms]+ fiber_cpu_ms=${R[fiber_cpu_ms]}}" >>"$stats_log"
    fi
fi

for sc in ${stderr_counts[@]+"${stderr_counts[@]}"}; do
    want=${sc%%:*} re=${sc#*:}
    got=$(grep -cE -- "$re" "$err" || true)
    [ "$got" = "$want" ] || fail "$got stderr lines match /$re/, expected $want"
done

# --- optional second run without the shim ------------------------------------------------

base_cmd=()
if [ "$compare" = 1 ]; then
    base_cmd=(env -u LD_PRELOAD)
    while IFS= read -r v; do base_cmd+=(-u "$v"); done < <(env | sed -n 's/^\(OCPREEMPT_[A-Za-z0-9_]*\)=.*/\1/p')
    for kv in ${envs[@]+"${envs[@]}"}; do
        [[ $kv == OCPREEMPT_* ]] || base_cmd+=("$kv")
    done
    base_cmd+=(timeout --kill-after=10 "$timeout_s" "$program" ${prog_args[@]+"${prog_args[@]}"})
    run_one "$workdir/base.stdout" "$workdir/base.stderr" "${base_cmd[@]}"
    if [ "$run_rc" != 0 ]; then
        fail "run without the shim exited with status $run_rc"
    elif ! cmp -s "$out" "$workdir/base.stdout"; then
        fail "stdout differs with and without the shim: $(diff -u "$workdir/base.stdout" "$out" | head -40)"
    fi
fi

# --- report ---------------------------------------------------------------------------------

mode="no shim"
[ "$use_shim" = 1 ] && mode="shim $shim"
if [ ${#failures[@]} -eq 0 ]; then
    echo "PASS $name ($mode, ${secs}s)"
    [ -z "$result_lines" ] || echo "  $result_lines"
    [ -z "$stats_lines" ] || echo "  $stats_lines"
    [ -z "$fail_lines" ] || echo "  (expected) $fail_lines"
    for n in ${notes[@]+"${notes[@]}"}; do echo "  note: $n"; done
    echo "  command: $(quote_cmd "${cmd[@]}")"
    exit 0
fi

echo "FAILED $name ($mode, exit status $rc)"
for f in "${failures[@]}"; do echo "  - $f"; done
echo
echo "reproduce with:"
echo "  $(quote_cmd "${cmd[@]}")"
[ ${#base_cmd[@]} -eq 0 ] || echo "  (baseline) $(quote_cmd "${base_cmd[@]}")"
echo
echo "---- stdout ($(wc -l <"$out") lines, last 100) ----"
tail -n 100 "$out"
echo "---- stderr ($(wc -l <"$err") lines, last 100) ----"
tail -n 100 "$err"
echo "----"
exit 1
