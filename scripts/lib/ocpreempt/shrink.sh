# shellcheck shell=bash disable=SC2034,SC2154  # globals shared between the parts: see each header
# ocpreempt launcher: `ocpreempt stress --shrink`. Sourced by scripts/ocpreempt after
# stress.sh, whose stress_one_run, replay_command, print_preemptions, report_part and
# state (stress_dir, stress_seed_failed, stress_outcome, stress_shrink_max_replays) it
# uses.
# Owns: the search for a minimal set of the failing run's preemptions that still fails
# the same way: Zeller's ddmin over their numbers, each candidate replayed as
# `--chaos SEED:LIST` (only the listed preemptions are performed).
# Invariants: a candidate counts as failing only with the very outcome of the original
# failure; at most stress_shrink_max_replays replays, and the result says when the budget
# cut the search short.

shrink_replays=0
shrink_failure=""        # the outcome a replay must reproduce

# "1 2 3 5 7 8" -> "1-3,5,7-8"
ranges_of() {
    local out="" first="" last="" n
    for n in $1; do
        if [[ -n $last && $n -eq $((last + 1)) ]]; then
            last=$n
            continue
        fi
        [[ -n $first ]] && out+="${out:+,}$( ((first == last)) && echo "$first" || echo "$first-$last")"
        first=$n last=$n
    done
    [[ -n $first ]] && out+="${out:+,}$( ((first == last)) && echo "$first" || echo "$first-$last")"
    printf '%s\n' "$out"
}

# Replays the seed with only the preemptions listed in $1; 0 when it fails the same way.
shrink_test() {
    local chaos="$stress_seed_failed:$(ranges_of "$1")"
    shrink_replays=$((shrink_replays + 1))
    if stress_one_run "$chaos" "$stress_dir/shrink"; then
        return 1
    fi
    [[ $stress_outcome == "$shrink_failure" ]] || return 1
    cp "$stress_dir/shrink/trace" "$stress_dir/minimal-trace"
    return 0
}

# Zeller's ddmin: the smallest subset of $1 (space-separated numbers) found to still fail
# within the replay budget; result in shrink_result.
shrink_result=""
ddmin() {
    local current=($1) n=2 size chunk i start subset complement reduced
    while ((${#current[@]} >= 2)); do
        size=${#current[@]}
        chunk=$(((size + n - 1) / n))
        reduced=0
        for ((start = 0; start < size && !reduced; start += chunk)); do
            ((shrink_replays >= stress_shrink_max_replays)) && break 2
            subset="${current[*]:start:chunk}"
            if shrink_test "$subset"; then
                current=($subset) n=2 reduced=1
            fi
        done
        ((reduced)) && continue
        if ((n > 2)); then
            for ((start = 0; start < size && !reduced; start += chunk)); do
                ((shrink_replays >= stress_shrink_max_replays)) && break 2
                complement="${current[*]:0:start} ${current[*]:start+chunk}"
                if shrink_test "$complement"; then
                    current=($complement) reduced=1
                    n=$((n > 3 ? n - 1 : 2))
                fi
            done
            ((reduced)) && continue
        fi
        ((n >= size)) && break
        n=$((2 * n < size ? 2 * n : size))
    done
    shrink_result="${current[*]}"
}

# Shrinks the failure of stress_seed_failed ($1 preemptions), announcing it before the
# replays start; both parts go into the failure report (stress.sh's report_part).
stress_shrink_failure() {
    report_part shrink_announce "$1"
    report_part shrink_search "$1"
}

shrink_announce() {
    printf '\nshrinking: replaying seed %s with subsets of its %d preemptions (at most %d' \
        "$stress_seed_failed" "$1" "$stress_shrink_max_replays"
    printf ' replays)...\n'
}

# The search and its result, printed at the end.
shrink_search() {
    local total=$1 all
    shrink_failure=$stress_outcome
    if shrink_test ""; then
        printf 'it fails the same way with none of its chaos preemptions: the failure does not\n'
        printf 'come from where chaos mode preempted (replay: %s)\n' \
            "$(replay_command "$stress_seed_failed:")"
        return
    fi
    all=$(seq -s ' ' 1 "$total")
    if ! shrink_test "$all"; then
        printf 'the replay with all %d preemptions listed did not fail the same way (%s):\n' \
            "$total" "$stress_outcome"
        printf 'the program is not deterministic apart from the schedule; cannot shrink\n'
        return
    fi
    ddmin "$all"     # minimal-trace: the trace of the last replay that failed, the minimal set's
    local count
    count=$(wc -w <<<"$shrink_result")
    printf 'minimal failing set: %d of %d preemptions (%d replays%s):\n' "$count" "$total" \
        "$shrink_replays" \
        "$( ((shrink_replays >= stress_shrink_max_replays)) && echo ", budget reached: may not be minimal")"
    print_preemptions "$stress_dir/minimal-trace" "$shrink_result"
    printf 'replay: %s\n' "$(replay_command "$stress_seed_failed:$(ranges_of "$shrink_result")")"
}
