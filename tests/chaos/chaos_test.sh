#!/usr/bin/env bash
# chaos_test.sh CASE: chaos mode (OCPREEMPT_CHAOS) and `ocpreempt stress`.
#
# Subjects: interleave (prints its schedule: switches and a digest of the order in which
# its fibers ran) and shop (demo/shop.ml: a lost update whenever a customer is preempted
# between its read and its write of the stock; it exits 1 then).
# Environment (set by CMake): T_SHIM T_LAUNCHER T_INTERLEAVE T_SHOP T_WORK (stress_core: T_SHIM,
# T_LAUNCHER, T_WORK).
# Each case fails with a message naming what disagreed; exit 0 means every check held.
set -u -o pipefail
case=${1:?case}
# OCPREEMPT_VERIFY is kept: `OCPREEMPT_VERIFY=1 ctest -L quick` runs the suite with every
# landing decision checked against the reference walk (docs/configuration.md).
for variable in $(compgen -e); do
    [[ $variable == OCPREEMPT_* && $variable != OCPREEMPT_VERIFY ]] && unset "$variable"
done
unset LD_PRELOAD variable
rm -rf "$T_WORK" && mkdir -p "$T_WORK" && cd "$T_WORK" || exit 1
export OCPREEMPT_LIB=$T_SHIM

fail() { printf 'FAIL %s: %s\n' "$case" "$*" >&2; exit 1; }

# chaos NAME SEED [ENV...]: interleave under chaos mode; NAME.out, NAME.err, NAME.trace,
# NAME.sites (kind and site of each preemption, in order).
chaos() {
    local name=$1 seed=$2
    shift 2
    env LD_PRELOAD="$T_SHIM" OCPREEMPT_YIELD=Sched.yield OCPREEMPT_CHAOS="$seed" \
        OCPREEMPT_CHAOS_RATE=1024 OCPREEMPT_TRACE="$T_WORK/$name.trace" "$@" \
        "$T_INTERLEAVE" >"$name.out" 2>"$name.err" ||
        fail "interleave under OCPREEMPT_CHAOS=$seed exited with $?: $(cat "$name.err")"
    grep -v -e '^#' -e '^$' "$name.trace" | cut -f3,5 >"$name.sites"
}

count() { wc -l <"$1"; }
switches() { sed -n 's/.*switches=\([0-9]*\).*/\1/p' "$1"; }

# Same seed: the same preemption points and the same schedule, run after run; another
# seed: another schedule. A clock that depended on time would fail the first part.
case_replay_same_seed() {
    chaos a 11
    chaos b 11
    chaos c 11
    local n
    n=$(count a.sites)
    ((n >= 20)) || fail "only $n chaos preemptions at 1024/MiB: $(cat a.err)"
    cmp -s a.sites b.sites && cmp -s a.sites c.sites ||
        fail "seed 11 preempted at different points in three runs: $(diff a.sites b.sites | head)"
    cmp -s a.out b.out && cmp -s a.out c.out || fail "seed 11 printed different schedules: $(cat a.out b.out c.out)"
    (($(switches a.out) > 3)) || fail "no interleaving under chaos: $(cat a.out)"
    chaos d 12
    cmp -s a.out d.out && fail "seeds 11 and 12 gave the same schedule: $(cat a.out)"
    return 0
}

# SEED:LIST performs exactly the listed preemptions; SEED: performs none (the program then
# runs as without preemption: each fiber to its end, 3 switches).
case_replay_list() {
    chaos all 11
    local n
    n=$(count all.sites)
    ((n >= 20)) || fail "only $n chaos preemptions: $(cat all.err)"
    chaos some "11:2,5-7,9"
    (($(count some.sites) == 5)) || fail "11:2,5-7,9 performed $(count some.sites) preemptions, not 5"
    head -n 1 some.sites | cmp -s - <(sed -n 2p all.sites) ||
        fail "the first performed preemption (#2) is not the full run's #2 (runs are identical up to it)"
    chaos none "11:"
    (($(count none.sites) == 0)) || fail "11: performed $(count none.sites) preemptions"
    (($(switches none.out) == 3)) || fail "11: still interleaved: $(cat none.out)"
}

# Chaos replaces the quantum: the sampler issues no request, every preemption is chaos's.
case_no_timer_requests() {
    chaos a 5 OCPREEMPT_STATS=1 OCPREEMPT_QUANTUM=100us
    local requests preemptions
    requests=$(grep -m1 '^ocpreempt: stats:' a.err | tr ' ' '\n' | sed -n 's/^requests=//p')
    preemptions=$(grep -m1 '^ocpreempt: stats:' a.err | tr ' ' '\n' | sed -n 's/^preemptions=//p')
    [[ $requests == 0 ]] || fail "chaos mode issued $requests timer requests"
    [[ $preemptions == "$(count a.sites)" && $preemptions -gt 0 ]] ||
        fail "stats preemptions=$preemptions, trace $(count a.sites)"
    grep -q "^ocpreempt: chaos: seed 5, rate 1024/MiB: $preemptions preemptions" a.err ||
        fail "no chaos summary line: $(cat a.err)"
}

# Several domains: the output says replay is not guaranteed; one domain: it does not.
case_multi_domain_warning() {
    chaos one 3
    grep -q 'replay is not guaranteed' one.err && fail "warning with one domain: $(cat one.err)"
    env LD_PRELOAD="$T_SHIM" OCPREEMPT_YIELD=Sched.yield OCPREEMPT_CHAOS=3 \
        "$T_INTERLEAVE" 300 domains >two.out 2>two.err || fail "two domains: exit $?: $(cat two.err)"
    grep -q '^ocpreempt: chaos: 2 threads ran OCaml code (domains or systhreads): replay is not guaranteed' two.err ||
        fail "no warning with two domains: $(cat two.err)"
}

stress() {
    "$T_LAUNCHER" stress "$@" >stress.out 2>stress.err
    status=$?
}

case_stress_pass() {
    stress --runs 3 --seed 40 --chaos-rate 1024 --yield Sched.yield -- "$T_INTERLEAVE" 100
    ((status == 0)) || fail "status $status: $(cat stress.out stress.err)"
    grep -q '^ocpreempt stress: run 1/3 seed 40: passed, [1-9][0-9]* preemptions$' stress.out ||
        fail "no plain progress line per run: $(cat stress.out)"
    grep -Eq '^ocpreempt stress: 3 runs passed \(seeds 40\.\.42\), [1-9][0-9]* chaos preemptions, [0-9]+s$' stress.out ||
        fail "no summary: $(cat stress.out)"
    # A program that never gets preempted passes, with a warning that nothing happened.
    stress --runs 2 -- true
    ((status == 0)) || fail "true: status $status"
    grep -q 'warning: no run was preempted at all' stress.out || fail "no warning for true: $(cat stress.out)"
}

case_stress_usage() {
    local args
    for args in "--runs 0 -- true" "--runs x -- true" "--runs" "--seed -3 -- true" \
                "--chaos-rate 0 -- true" "--timeout 0 -- true" "--timeout 1x -- true" \
                "--chaos 3 -- true" "--trace f -- true" "--stats -- true" "--runs 2 true" \
                "--runs 2 --" "--bogus -- true" "--quantum 1 -- true"; do
        # shellcheck disable=SC2086
        stress $args
        ((status == 2)) || fail "stress $args: status $status, expected 2"
        [[ $(wc -l <stress.err) == 1 && $(cat stress.err) == ocpreempt:* ]] ||
            fail "stress $args: not one 'ocpreempt:' line: $(cat stress.err)"
    done
    stress --help
    ((status == 0)) && grep -q 'ocpreempt stress' stress.out || fail "--help: $status"
    stress -- /nonexistent/program
    ((status == 127)) || fail "missing program: status $status"
}

# The temporary directory: gone after a pass, after a usage error and after an
# interruption; kept (and named) only by a failure report. Messages name stress, and a
# failure without preemptions does not claim "same preemption points".
case_stress_tempdir() {
    local tmp=$PWD/tmp pid
    mkdir -p "$tmp"
    leftovers() { find "$tmp" -maxdepth 1 -name 'ocpreempt-stress.*' | wc -l; }
    TMPDIR=$tmp stress --runs 2 -- true
    ((status == 0 && $(leftovers) == 0)) || fail "pass: status $status, $(leftovers) left"
    TMPDIR=$tmp stress --runs 2 -- /bin/false
    ((status == 1)) || fail "/bin/false: status $status"
    (($(leftovers) == 1)) || fail "failure: $(leftovers) directories kept, expected 1"
    grep -q "^output and trace of the failing run (kept; remove $tmp/ocpreempt-stress\." stress.out ||
        fail "the failure report does not say where: $(cat stress.out)"
    grep -q 'same preemption points' stress.out &&
        fail "claims same preemption points without any: $(cat stress.out)"
    grep -q 'same failure, with no preemption points' stress.out ||
        fail "no 'no preemption points': $(cat stress.out)"
    rm -rf "$tmp"/ocpreempt-stress.*
    stress --chaos-rate 0 -- true
    grep -q '^ocpreempt: stress: --chaos-rate: ' stress.err || fail "chaos-rate: $(cat stress.err)"
    # Interrupted during a run: the run is stopped and the directory removed, promptly.
    TMPDIR=$tmp "$T_LAUNCHER" stress --runs 5 --timeout 120 -- sleep 100 >stress.out 2>stress.err &
    pid=$!
    for _ in $(seq 100); do
        (($(leftovers) == 1)) && [[ -e $(find "$tmp" -maxdepth 3 -name out | head -1) ]] && break
        sleep 0.1
    done
    (($(leftovers) == 1)) || fail "the interruption test never started a run"
    kill -TERM "$pid"
    local start=$SECONDS
    wait "$pid"
    status=$?
    ((status == 143)) || fail "TERM: status $status: $(cat stress.out stress.err)"
    ((SECONDS - start < 30)) || fail "TERM took $((SECONDS - start))s: the run was not stopped"
    (($(leftovers) == 0)) || fail "interrupted: $(leftovers) directories left"
}

case_stress_failures() {
    stress --runs 3 -- sh -c 'echo line-before-the-end; exit 3'
    ((status == 1)) || fail "exit 3: status $status"
    grep -q '^ocpreempt stress: run 1 of 3 FAILED (seed 1): exit status 3$' stress.out ||
        fail "exit 3 not reported: $(cat stress.out)"
    grep -q '^line-before-the-end$' stress.out || fail "the run's last lines are missing: $(cat stress.out)"
    stress --runs 2 --seed 9 -- sh -c 'kill -SEGV $$'
    ((status == 1)) && grep -q 'FAILED (seed 9): killed by SIGSEGV$' stress.out ||
        fail "crash: status $status: $(cat stress.out)"
    stress --runs 2 --timeout 1 -- sleep 20
    ((status == 1)) && grep -q 'FAILED (seed 1): timed out after 1$' stress.out ||
        fail "timeout: status $status: $(cat stress.out)"
}

# The demonstration: stress finds the lost update within 50 runs, names the line of the
# read-modify-write, and prints a replay command that fails again.
case_stress_finds_shop_bug() {
    stress --runs 50 --yield Shop.yield -- "$T_SHOP"
    ((status == 1)) || fail "stress did not find the bug in 50 runs (status $status): $(tail stress.out)"
    local seed replay
    seed=$(sed -n 's/.*FAILED (seed \([0-9]*\)): exit status 1$/\1/p' stress.out)
    [[ -n $seed ]] || fail "no failing seed: $(cat stress.out)"
    grep -q '^shop: BUG: ' stress.out || fail "the run's output is not shown: $(cat stress.out)"
    grep -Eq '^ +#[0-9]+ +(poll|alloc) +Shop\.sell shop\.ml:[0-9]+$' stress.out ||
        fail "the preemption points are not named: $(cat stress.out)"
    replay=$(sed -n 's/^replay: //p' stress.out | head -n 1)
    [[ $replay == *" run --yield Shop.yield --chaos $seed -- $T_SHOP" ]] ||
        fail "replay command: $replay"
    grep -q '^replayed once: same failure, same preemption points$' stress.out ||
        fail "the automatic replay did not reproduce: $(cat stress.out)"
    eval "$replay" >replay.out 2>&1 && fail "the replay command passed: $(cat replay.out)"
    grep -q '^shop: BUG: ' replay.out || fail "the replay failed differently: $(cat replay.out)"
}

case_stress_shrink() {
    stress --runs 5 --chaos-rate 2048 --shrink --yield Shop.yield -- "$T_SHOP"
    ((status == 1)) || fail "status $status: $(tail stress.out)"
    local total kept replay
    total=$(sed -n 's/^minimal failing set: [0-9]* of \([0-9]*\) preemptions.*/\1/p' stress.out)
    kept=$(sed -n 's/^minimal failing set: \([0-9]*\) of .*/\1/p' stress.out)
    [[ -n $total && -n $kept ]] || fail "no minimal set: $(cat stress.out)"
    ((total >= 20 && kept >= 1 && kept < total)) || fail "shrunk $total to $kept"
    replay=$(sed -n 's/^replay: //p' stress.out | tail -n 1)
    [[ $replay == *"--chaos "[0-9]*:* ]] || fail "no replay command with a list: $replay"
    rm -f shrunk.trace
    eval "${replay/ -- / --trace $T_WORK/shrunk.trace -- }" >replay.out 2>&1 &&
        fail "the shrunk replay passed: $(cat replay.out)"
    (($(grep -c -v '^#' shrunk.trace) == kept)) ||
        fail "the shrunk replay made $(grep -c -v '^#' shrunk.trace) preemptions, not $kept"
}

# stress_core PROGRAM [RUN OPTIONS]: a core test program passes 20 chaos runs.
case_stress_core() {
    local program=${2:?program}
    [[ -x $program ]] || { echo "SKIP: $program not built (OCaml compiler missing?)"; exit 77; }
    "$T_LAUNCHER" stress --runs 20 --timeout 300 --yield Sched.yield "${@:3}" -- "$program" |
        tee stress.out
    local status=${PIPESTATUS[0]}
    ((status == 0)) || fail "$program failed under chaos mode (status $status)"
}

declare -F "case_$case" >/dev/null || { echo "chaos_test.sh: no case $case" >&2; exit 2; }
"case_$case" "$@"
