# shellcheck shell=bash disable=SC2034,SC2154  # globals shared between the parts: see each header
# ocpreempt launcher: `ocpreempt stress [STRESS OPTIONS] [RUN OPTIONS] -- PROGRAM [ARGS...]`
# (docs/ci.md). Sourced by scripts/ocpreempt after run.sh.
# Owns: stress's options (the others are run options, judged by run.sh's
# parse_run_options); which seeds this job runs (--shard); one chaos run and its outcome
# (stress_one_run); naming the preemption sites of a trace (name_site,
# print_preemptions); the progress lines; the failure report with its automatic replay;
# the temporary directory and the traps that remove it. Shrinking a failure is shrink.sh,
# the JUnit report (--junit) junit.sh.
# Invariants: every run is this very launcher ($self) with `run --chaos SEED`, so a run
# and the replay command printed for it start PROGRAM identically; the temporary
# directory is removed on every exit unless a failure report named it; the runs of a
# stress command are k = 0 .. runs-1 with seed S+k, and shard I/N runs exactly those with
# k mod N == I-1, in increasing order (stress_seed_of), so the N shards of one command
# line run every seed once.
#
# Each run is `ocpreempt run --chaos SEED --trace DIR/trace -- PROGRAM ARGS` under
# timeout(1), stdin from /dev/null, stdout and stderr together in DIR/out. The trace (one
# line per preemption, docs/trace.md) gives the run's preemptions, in order; in a replay
# with SEED:LIST it holds exactly the listed ones, in the order of their numbers.

readonly stress_shrink_max_replays=200
readonly stress_tail_lines=20

stress_runs=100
stress_seed=1
stress_rate=""
stress_timeout=60s
stress_shrink=0
stress_run_options=()    # passed to every run
stress_dir=""            # a fresh temporary directory per stress command
stress_keep_dir=0        # 1 once a failure report has pointed the user at stress_dir
stress_child=""          # pid of the timeout(1) running the current run
stress_preemptions=0     # of the last run
stress_outcome=""        # of the last run: "passed", "exit status N", "killed by SIGX", ...
stress_run_micros=0      # of the last run: its duration in microseconds
stress_shard_index=1     # --shard I/N (1/1 without --shard)
stress_shard_count=1
stress_sharded=0         # 1 when --shard was given (the messages then name the shard)
stress_shard_runs=0      # how many runs this shard makes
stress_label=""          # "shard I/N: " in the messages of a sharded stress, else ""
stress_report=""         # the failure report being written (a copy of what it printed)
stress_phase=""          # "running" or "reporting" run stress_current_run, for the traps
stress_current_run=0
stress_current_seed=0

is_whole_number() {
    [[ $1 =~ ^[0-9]+$ ]] && ((${#1} <= 18))
}

# Microseconds since the epoch, for run durations (EPOCHREALTIME's decimal separator
# follows the locale, hence the filter; bash before 5.0 has whole seconds only).
now_micros() {
    local now=${EPOCHREALTIME-}
    now=${now//[!0-9]/}
    [[ -n $now ]] || now=$((SECONDS * 1000000))
    printf '%s\n' "$((10#$now))"
}

# --shard I/N: this job is shard I of N (CI systems number their parallel jobs from 1:
# GitLab's CI_NODE_INDEX/CI_NODE_TOTAL, a GitHub Actions matrix).
parse_shard() {
    local value=$1 index count
    [[ -n $value && $value != -- ]] || usage_error "stress: --shard needs a value I/N"
    [[ $value =~ ^([0-9]{1,18})/([0-9]{1,18})$ ]] ||
        usage_error "stress: --shard $value is not I/N (shard I of N, 1 <= I <= N)"
    index=$((10#${BASH_REMATCH[1]})) count=$((10#${BASH_REMATCH[2]}))
    ((count >= 1)) || usage_error "stress: --shard $value: N must be 1 or more"
    ((index >= 1 && index <= count)) ||
        usage_error "stress: --shard $value: I must be between 1 and $count"
    stress_shard_index=$index stress_shard_count=$count stress_sharded=1
    stress_label="shard $index/$count: "
}

# The seed of this shard's run $1 (1-based): S + k for the run's k, k = I-1 + (run-1) N.
stress_seed_of() {
    printf '%s\n' $((stress_seed + stress_shard_index - 1 + ($1 - 1) * stress_shard_count))
}

# Which seeds this shard runs, for the summary: "seeds 2, 5, ..., 98 of 1..100".
shard_seeds_text() {
    local first last all="$stress_seed..$((stress_seed + stress_runs - 1))"
    first=$(stress_seed_of 1)
    last=$(stress_seed_of "$stress_shard_runs")
    case $stress_shard_runs in
        1) printf 'seed %s of %s\n' "$first" "$all" ;;
        2) printf 'seeds %s, %s of %s\n' "$first" "$last" "$all" ;;
        3) printf 'seeds %s, %s, %s of %s\n' "$first" "$(stress_seed_of 2)" "$last" "$all" ;;
        *) printf 'seeds %s, %s, ..., %s of %s\n' "$first" "$(stress_seed_of 2)" "$last" "$all" ;;
    esac
}

# --chaos-rate is checked by the shim's parser, as run does, but reported as stress's.
check_stress_rate() {
    local message
    [[ -n $1 ]] || usage_error "stress: --chaos-rate needs a value"
    if ! message=$("$checkenv" --value OCPREEMPT_CHAOS_RATE "$1" 2>&1); then
        die "stress: --chaos-rate: ${message#ocpreempt: }"
    fi
}

# Parses stress's own options; everything else before -- is a run option, checked by
# `run`'s own parser (in a subshell: it exits 2 on a bad one, as stress must).
parse_stress_options() {
    local saw_separator=0 option value
    while (($#)); do
        case $1 in
            --)
                saw_separator=1
                shift
                break
                ;;
            --runs | --seed | --chaos-rate | --timeout | --junit | --shard)
                (($# >= 2)) || usage_error "stress: $1 needs a value"
                option=$1 value=$2
                shift 2
                ;;
            --runs=* | --seed=* | --chaos-rate=* | --timeout=* | --junit=* | --shard=*)
                option=${1%%=*} value=${1#*=}
                shift
                ;;
            --shrink)
                stress_shrink=1
                shift
                continue
                ;;
            -h | --help)
                print_help
                exit 0
                ;;
            --chaos | --chaos=* | --trace | --trace=* | --trace-format | --trace-format=* | \
                --stats | --stats=* | --json)
                usage_error "stress: ${1%%=*} is set by stress itself"
                ;;
            --quantum | --yield | --deny | --critical | --sites | --log)
                (($# >= 2)) || usage_error "stress: $1 needs a value"
                stress_run_options+=("$1" "$2")
                shift 2
                continue
                ;;
            -*)
                stress_run_options+=("$1")
                shift
                continue
                ;;
            *)
                usage_error "stress: missing -- before the program ($1)"
                ;;
        esac
        case $option in
            --runs)
                is_whole_number "$value" && ((value >= 1)) ||
                    usage_error "stress: --runs $value is not a number of runs (1 or more)"
                stress_runs=$((10#$value))
                ;;
            --seed)
                is_whole_number "$value" ||
                    usage_error "stress: --seed $value is not a whole number below 10^18"
                stress_seed=$((10#$value))
                ;;
            --chaos-rate)
                check_stress_rate "$value"
                stress_rate=$value
                ;;
            --timeout)
                [[ $value =~ ^[0-9]+(\.[0-9]+)?[smh]?$ && ! $value =~ ^0+(\.0+)?[smh]?$ ]] ||
                    usage_error "stress: --timeout $value is not a duration such as 30, 30s," \
                                "2.5m or 1h"
                stress_timeout=$value
                ;;
            --junit)
                [[ -n $value && $value != -- ]] || usage_error "stress: --junit needs a FILE"
                junit_file=$value
                ;;
            --shard)
                parse_shard "$value"
                ;;
        esac
    done
    ((saw_separator)) || usage_error "stress: missing -- PROGRAM"
    (($#)) || usage_error "stress: missing PROGRAM after --"
    ((stress_runs >= stress_shard_index)) ||
        usage_error "stress: --shard $stress_shard_index/$stress_shard_count gets no run of" \
                    "--runs $stress_runs (it needs --runs $stress_shard_index or more)"
    stress_shard_runs=$(((stress_runs - stress_shard_index) / stress_shard_count + 1))
    program=("$@")
    # The run options, judged now by run's parser rather than at every run.
    (parse_run_options "${stress_run_options[@]}" -- "${program[@]}") || exit "$exit_launcher_error"
}

# The command line that replays seed $1 (SEED or SEED:LIST), quoted for a shell.
replay_command() {
    local words=("$invoked_as" run "${stress_run_options[@]}" --chaos "$1")
    [[ -n $stress_rate ]] && words+=(--chaos-rate "$stress_rate")
    words+=(-- "${program[@]}")
    local quoted
    printf -v quoted '%q ' "${words[@]}"
    printf '%s\n' "${quoted% }"
}

# Runs PROGRAM once with OCPREEMPT_CHAOS=$1 into directory $2; sets stress_outcome and
# stress_preemptions. Returns 0 when the run passed.
stress_one_run() {
    local chaos=$1 dir=$2 status start elapsed
    # The failure report reads the text trace: a chrome format in the environment
    # (OCPREEMPT_TRACE_FORMAT) would leave it without the run's preemption points.
    local command=("$self" run "${stress_run_options[@]}" --chaos "$chaos" --trace "$dir/trace"
                   --trace-format text)
    [[ -n $stress_rate ]] && command+=(--chaos-rate "$stress_rate")
    mkdir -p "$dir" || die "stress: cannot create $dir"
    start=$SECONDS
    stress_run_micros=$(now_micros)
    # In the background and waited for, so that a signal to stress (Ctrl-C, kill) runs its
    # trap at once instead of after the run: timeout(1) puts the run in its own process
    # group, where the terminal's Ctrl-C does not reach it (stress_interrupted stops it).
    timeout -k 5 "$stress_timeout" "${command[@]}" -- "${program[@]}" </dev/null >"$dir/out" 2>&1 &
    stress_child=$!
    wait "$stress_child"
    status=$?
    stress_child=""
    elapsed=$((SECONDS - start))
    stress_run_micros=$(($(now_micros) - stress_run_micros))
    stress_preemptions=0
    [[ -f $dir/trace ]] && stress_preemptions=$(grep -c -v -e '^#' -e '^$' "$dir/trace")
    if ((status == 0)); then
        stress_outcome=passed
        return 0
    elif ((status == 124 && elapsed + 1 >= ${stress_timeout_seconds%.*})); then
        stress_outcome="timed out after $stress_timeout"
    elif ((status > 128)); then
        stress_outcome="killed by SIG$(kill -l $((status - 128)) 2>/dev/null || echo $((status - 128)))"
    else
        stress_outcome="exit status $status"
    fi
    return 1
}

# Seconds in a --timeout value (for telling timeout(1)'s 124 from a program's own).
timeout_seconds() {
    local v=$1 unit=1
    case $v in
        *s) v=${v%s} ;;
        *m) v=${v%m} unit=60 ;;
        *h) v=${v%h} unit=3600 ;;
    esac
    awk -v v="$v" -v u="$unit" 'BEGIN { printf "%d\n", v * u }'
}

# ---- naming preemption sites

declare -A site_names=()    # trace site -> "Module.fn file:line" (cache)
symbols_file=""

# "camlShop.sell_372" -> "Shop.sell"
ocaml_name_of_symbol() {
    local name=${1#caml}
    name=${name%_[0-9]*}
    printf '%s\n' "$name"
}

# A trace site of the form symbol+0xOFFSET (poll sites carry no debug information of
# their own) named from the program's symbols and DWARF line table: the caml_call_gc call
# of a poll sits out of line and the `jmp` at its return address goes back to the poll in
# the body, so the line is the jmp target's. Without binutils the site stays as it is.
name_site() {
    local site=$1 path=$2 symbol offset base address target line
    if [[ -n ${site_names[$site]-} ]]; then
        printf '%s\n' "${site_names[$site]}"
        return
    fi
    site_names[$site]=$site
    if [[ $site =~ ^(caml[^+[:space:]]+)\+0x([0-9a-fA-F]+)$ ]] &&
       type -P nm objdump addr2line >/dev/null; then
        symbol=${BASH_REMATCH[1]} offset=${BASH_REMATCH[2]}
        if [[ -z $symbols_file ]]; then
            symbols_file=$stress_dir/symbols
            nm "$path" >"$symbols_file" 2>/dev/null
        fi
        base=$(awk -v s="$symbol" '$3 == s { print $1; exit }' "$symbols_file")
        if [[ -n $base ]]; then
            address=$((16#$base + 16#$offset))
            target=$(objdump -d --start-address="$address" --stop-address=$((address + 8)) \
                         "$path" 2>/dev/null |
                     awk '/^ +[0-9a-f]+:/ { if ($0 ~ /\tjmp/) print $(NF-1); exit }')
            [[ $target =~ ^[0-9a-f]+$ ]] && address=$((16#$target))
            line=$(addr2line -e "$path" "$(printf '%x' "$address")" 2>/dev/null)
            line=${line##*/}
            line=${line%% *}
            [[ $line == *:[0-9]* ]] || line="?"
            site_names[$site]="$(ocaml_name_of_symbol "$symbol") $line"
        fi
    fi
    printf '%s\n' "${site_names[$site]}"
}

# Prints the preemptions of trace $1, numbered by the words of $2 (default 1, 2, ...),
# at most the first 10 and the last 30 when there are more than 50. Where the preempted
# code is not the program's own (Stdlib, glue), a v2 trace's sixth field names the
# nearest frame of the program's code on the fiber's stack: shown as "(your code: ...)".
print_preemptions() {
    local trace=$1 numbers=($2) path i=0 total kind site user named mine number
    [[ -f $trace ]] || return 0             # the run left none (a timeout, no preemption)
    path=${program[0]}
    [[ $path == */* ]] || path=$(type -P -- "$path")
    total=$(grep -c -v -e '^#' -e '^$' "$trace")
    while IFS=$'\t' read -r _ _ kind _ site user; do
        i=$((i + 1))
        if ((total > 50 && i > 10 && i <= total - 30)); then
            ((i == 11)) && printf '      ... %d more ...\n' $((total - 40))
            continue
        fi
        number=${numbers[i - 1]:-$i}
        named=$(name_site "$site" "$path") mine=""
        if [[ -n $user && $user != - && $user != "$site" ]]; then
            mine=$(name_site "$user" "$path")
            [[ $mine != "$named" ]] && mine="  (your code: $mine)" || mine=""
        fi
        printf '  %5s  %-5s  %s%s\n' "#$number" "$kind" "$named" "$mine"
    done < <(grep -v -e '^#' -e '^$' "$trace")
}

# The preemption points of trace $1 (kind and site), nothing when the run left no trace.
trace_points() {
    [[ -f $1 ]] && cut -f3,5 "$1"
}

# ---- the stress command

# On every exit of stress: the temporary directory goes, unless a failure report named it.
stress_cleanup() {
    if [[ -n $stress_child ]]; then
        kill -TERM "$stress_child" 2>/dev/null
        wait "$stress_child" 2>/dev/null
    fi
    junit_discard_temporary
    ((stress_keep_dir)) || rm -rf -- "$stress_dir"
}

# A signal stops the current run (timeout(1) passes TERM on to the program) and stress,
# with the shell's status for that signal; the JUnit report lists what was done (the
# run in progress and the runs not started as skipped); stress_cleanup then runs from the
# EXIT trap.
stress_interrupted() {
    trap - INT TERM HUP
    local signal
    signal=SIG$(kill -l $(($1 - 128)))
    if [[ -n $stress_child ]]; then
        kill -TERM "$stress_child" 2>/dev/null
        wait "$stress_child" 2>/dev/null
        stress_child=""
    fi
    ((stress_tty)) && printf '\n'
    printf 'ocpreempt stress: interrupted\n' >&2
    if [[ -n $junit_file ]]; then
        case $stress_phase in
            running)
                junit_case_skipped "$stress_current_seed" \
                    "interrupted by $signal during this run"
                ;;
            reporting)
                printf '(the failure report was interrupted by %s)\n' "$signal" >>"$stress_report"
                junit_case_failed "$stress_current_seed" "$stress_failed_micros" \
                    "$stress_failed_preemptions" "$stress_failed_outcome" "$stress_report" \
                    "$stress_dir/run"
                ;;
        esac
        junit_write "not run: stress was interrupted by $signal"
    fi
    exit "$1"
}

stress_progress() {
    local run=$1 seed=$2 preemptions=$3 outcome=$4
    if ((stress_tty)); then
        printf '\rocpreempt stress: %srun %d/%d (seed %s), %d preemptions so far, %s ' \
            "$stress_label" "$run" "$stress_shard_runs" "$seed" "$preemptions" "$outcome"
    else
        printf 'ocpreempt stress: %srun %d/%d seed %s: %s, %d preemptions\n' "$stress_label" \
            "$run" "$stress_shard_runs" "$seed" "$outcome" "$stress_preemptions"
    fi
}

# report_part FUNCTION ARGS...: runs FUNCTION in this shell (its variables stick), then
# prints what it printed and appends it to the failure report, which the JUnit report
# quotes. Each part appears once it is complete: the head before the replay starts, the
# shrinking announcement before the shrinking replays.
report_part() {
    local part=$stress_dir/report-part
    "$@" >"$part"
    cat -- "$part"
    cat -- "$part" >>"$stress_report"
}

# The failing run: how it failed, its last lines, its preemptions, the replay command.
stress_failure_head() {
    local run=$1 dir=$2
    printf 'ocpreempt stress: %srun %d of %d FAILED (seed %s): %s\n' "$stress_label" "$run" \
        "$stress_shard_runs" "$stress_seed_failed" "$stress_outcome"
    printf -- '--- last %d lines of its output ---\n' "$stress_tail_lines"
    tail -n "$stress_tail_lines" "$dir/out"
    printf -- '--- its chaos preemptions (%d), in order ---\n' "$stress_preemptions"
    print_preemptions "$dir/trace" ""
    printf 'replay: %s\n' "$(replay_command "$stress_seed_failed")"
    grep -m 1 'replay is not guaranteed' "$dir/out" >/dev/null &&
        printf 'note: several threads or domains ran OCaml code: the replay may differ\n'
    return 0
}

# Replays the failing seed once and says whether it failed the same way (stress_outcome
# is the failing run's again afterwards).
stress_replay_once() {
    local dir=$1 outcome=$stress_outcome total=$stress_preemptions
    if stress_one_run "$stress_seed_failed" "$stress_dir/replay"; then
        printf 'replayed once: it PASSED; the failure depends on more than the seed (threads,\n'
        printf 'domains, time or input), so the replay command may not reproduce it\n'
    elif [[ $stress_outcome == "$outcome" ]] && cmp -s <(trace_points "$dir/trace") \
                                                      <(trace_points "$stress_dir/replay/trace"); then
        if ((total == 0)); then
            printf 'replayed once: same failure, with no preemption points (the run was never\n'
            printf 'preempted: the failure does not come from chaos mode)\n'
        else
            printf 'replayed once: same failure, same preemption points\n'
        fi
    else
        printf 'replayed once: %s, with %s preemption points\n' "$stress_outcome" \
            "$(cmp -s <(trace_points "$dir/trace") <(trace_points "$stress_dir/replay/trace") &&
               echo the same || echo different)"
    fi
    stress_outcome=$outcome
}

stress_kept_directory() {
    printf 'output and trace of the failing run (kept; remove %s when done): %s\n' \
        "$stress_dir" "$1"
}

stress_report_failure() {
    local run=$1 dir=$2
    stress_report=$stress_dir/report
    : >"$stress_report" || die "stress: cannot write $stress_report"
    ((stress_tty)) && printf '\n'
    printf '\n'
    report_part stress_failure_head "$run" "$dir"
    report_part stress_replay_once "$dir"
    ((stress_shrink)) && stress_shrink_failure "$stress_failed_preemptions"
    stress_keep_dir=1
    report_part stress_kept_directory "$dir"
}

cmd_stress() {
    local library run seed total=0 start
    help_asked "$@" && { print_help; exit 0; }
    library=$(find_library) || exit "$exit_launcher_error"
    checkenv=$(find_checkenv "$library") || exit "$exit_launcher_error"
    type -P timeout >/dev/null || die "stress: timeout(1) (coreutils) not found"
    parse_stress_options "$@"
    [[ -n $junit_file ]] && junit_check_file
    check_program "${program[0]}"
    stress_timeout_seconds=$(timeout_seconds "$stress_timeout")
    stress_dir=$(mktemp -d "${TMPDIR:-/tmp}/ocpreempt-stress.XXXXXX") ||
        die "stress: cannot create a temporary directory"
    stress_tty=0
    [[ -t 1 ]] && stress_tty=1
    trap stress_cleanup EXIT
    [[ -n $junit_file ]] && junit_begin
    trap 'stress_interrupted 130' INT
    trap 'stress_interrupted 143' TERM
    trap 'stress_interrupted 129' HUP
    start=$SECONDS
    for ((run = 1; run <= stress_shard_runs; run++)); do
        seed=$(stress_seed_of "$run")
        stress_current_run=$run stress_current_seed=$seed stress_phase=running
        if ! stress_one_run "$seed" "$stress_dir/run"; then
            stress_seed_failed=$seed
            stress_failed_outcome=$stress_outcome
            stress_failed_micros=$stress_run_micros
            stress_failed_preemptions=$stress_preemptions
            stress_phase=reporting
            stress_progress "$run" "$seed" "$total" "FAILED"
            stress_report_failure "$run" "$stress_dir/run"
            if [[ -n $junit_file ]]; then
                junit_case_failed "$seed" "$stress_failed_micros" "$stress_failed_preemptions" \
                    "$stress_failed_outcome" "$stress_report" "$stress_dir/run"
                stress_phase=""
                junit_write "not run: stress stops at the first failure (seed $seed)" &&
                    printf 'ocpreempt stress: JUnit report: %s\n' "$junit_file"
            fi
            exit 1
        fi
        [[ -n $junit_file ]] && junit_case_passed "$seed" "$stress_dir/run"
        stress_phase=""
        total=$((total + stress_preemptions))
        stress_progress "$run" "$seed" "$total" "passed"
    done
    if [[ -n $junit_file ]]; then
        junit_write "" || exit "$exit_launcher_error"
    fi
    ((stress_tty)) && printf '\n'
    if ((stress_sharded)); then
        printf 'ocpreempt stress: shard %d/%d: %d runs passed (%s), %d chaos preemptions, %ds\n' \
            "$stress_shard_index" "$stress_shard_count" "$stress_shard_runs" \
            "$(shard_seeds_text)" "$total" $((SECONDS - start))
    else
        printf 'ocpreempt stress: %d runs passed (seeds %d..%d), %d chaos preemptions, %ds\n' \
            "$stress_runs" "$stress_seed" $((stress_seed + stress_runs - 1)) "$total" \
            $((SECONDS - start))
    fi
    [[ -n $junit_file ]] && printf 'ocpreempt stress: JUnit report: %s\n' "$junit_file"
    if ((total == 0)); then
        printf 'ocpreempt stress: warning: no run was preempted at all: is %s an OCaml 5\n' \
            "${program[0]}"
        printf 'program with fibers that allocates? (ocpreempt run --log info -- ... says why)\n'
        # What the shim said in the last run, if anything (e.g. no yield function named).
        grep -m 1 '^ocpreempt: ' "$stress_dir/run/out" | sed 's/^/the last run said: /'
    fi
    exit 0
}
