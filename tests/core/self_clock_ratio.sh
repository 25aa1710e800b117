#!/usr/bin/env bash
# self_clock_ratio.sh SHIM PROGRAM: core_self_clock_burst (a fiber allocates a burst, then
# computes without allocating) self-clocked against watcher-only, from interleaved runs
# (0 1 0 1 0 1) at a 1 ms quantum: the median of its rounds per CPU second with
# OCPREEMPT_SELF_CLOCK=1 must be at least 2/3 of the median with 0. A ratio in one run,
# never a time.
set -euo pipefail
shim=${1:?shim} program=${2:?program}
rate_of() {   # rate_of SELF_CLOCK: one run's rounds per CPU second
    local out
    out=$(env LD_PRELOAD="$shim" OCPREEMPT_YIELD=Self_clock_burst.yield OCPREEMPT_QUANTUM=1ms \
          OCPREEMPT_SELF_CLOCK="$1" "$program" 1.5 2>/dev/null) ||
        { echo "FAIL: the program failed (SELF_CLOCK=$1): $out" >&2; exit 1; }
    sed -nE 's/^RESULT .* rounds_per_cpu_s=([0-9.]+).*/\1/p' <<<"$out"
}
off=() on=()
for _ in 1 2 3; do
    off+=("$(rate_of 0)")
    on+=("$(rate_of 1)")
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
m_off=$(median "${off[@]}") m_on=$(median "${on[@]}")
echo "rounds per CPU second, watcher-only: ${off[*]} (median $m_off); self-clocked: ${on[*]} (median $m_on)"
awk -v a="$m_on" -v b="$m_off" 'BEGIN { exit !(b > 0 && a / b >= 2 / 3) }' ||
    { echo "FAIL: self-clocked ${m_on} rounds per CPU second against ${m_off} watcher-only" >&2; exit 1; }
echo "ok: ratio $(awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "%.2f", a / b }')"
