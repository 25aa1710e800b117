#!/usr/bin/env bash
# chaos_test.sh CASE: chaos mode (OCPREEMPT_CHAOS) and `ocpreempt stress`.
#
# Subjects: interleave (prints its schedule: switches and a digest of the order in which
# its fibers ran) and shop (demo/shop.ml: a lost update whenever a customer is preempted
# between its read and its write of the stock; it exits 1 then).
# Environment (set by CMake): T_SHIM T_LAUNCHER T_INTERLEAVE T_SHOP T_JUNIT_XSD T_WORK (stress_core: T_SHIM,
# T_LAUNCHER, T_WORK).
# Each case fails with a message naming what disagreed; exit 0 means every check held.
set -u -o pipefail
case=${1:?case}
# OCPREEMPT_VERIFY is kept: `OCPREEMPT_VERIFY=1 ctest -L quick` runs the suite with every
# landing decision checked against the reference walk (docs/configuration.md); and
# OCPREEMPT_ANALYSIS_CACHE, which tests/CMakeLists.txt points into the build tree so that
# no test writes the user's ~/.cache.
for variable in $(compgen -e); do
    [[ $variable == OCPREEMPT_* && $variable != OCPREEMPT_VERIFY &&
       $variable != OCPREEMPT_ANALYSIS_CACHE ]] && unset "$variable"
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
                "--runs 2 --" "--bogus -- true" "--quantum 1 -- true" \
                "--trace-format chrome -- true" "--trace-format=chrome -- true"; do
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
    # A chrome trace format in the environment must not hide the run's preemption points
    # from the report (stress reads its own text trace).
    OCPREEMPT_TRACE_FORMAT=chrome stress --runs 50 --yield Shop.yield -- "$T_SHOP"
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

# The lost update of user_frame.ml is made by preemptions inside List.map and List.length
# (Stdlib: the innermost frame); the report must also name the program's own function that
# called them, at the line of the call (marked USER-FRAME), not only the Stdlib site.
case_stress_names_user_frame() {
    local line
    line=$(grep -nF '(* USER-FRAME *)' "$T_USER_FRAME_SOURCE" | head -n 1 | cut -d: -f1)
    stress --runs 20 --yield Sched.yield -- "$T_USER_FRAME"
    ((status == 1)) || fail "stress did not find the lost update in 20 runs (status $status): $(tail stress.out)"
    grep -q '^user_frame: BUG: ' stress.out || fail "the run's output is not shown: $(cat stress.out)"
    grep -Eq "^ +#[0-9]+ +alloc +Stdlib__List\.map list\.ml:[0-9]+  \(your code: User_frame\.restock user_frame\.ml:$line\)\$" stress.out ||
        fail "no preemption in List.map names User_frame.restock user_frame.ml:$line: $(cat stress.out)"
    # A preemption in the program's own code is not annotated: the site is its code.
    ! grep -Eq '^ +#[0-9]+ +(poll|alloc) +User_frame\..*your code' stress.out ||
        fail "a site in the program's own code is annotated: $(cat stress.out)"
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

# ---- JUnit reports (--junit) and shards (--shard)

# The reports are checked against tests/launcher/junit-10.xsd (the Jenkins xUnit plugin's
# schema) with xmllint; without xmllint these cases skip (scripts/setup.sh installs it).
need_xmllint() {
    type -P xmllint >/dev/null || { echo "SKIP: xmllint not found (Debian: libxml2-utils)"; exit 77; }
}

# valid FILE: FILE is well-formed and valid against the schema.
valid() {
    xmllint --schema "$T_JUNIT_XSD" --noout "$1" >xmllint.out 2>&1 ||
        fail "$1 does not validate: $(head -n 5 xmllint.out)"
}

# xpath FILE EXPRESSION: the string value of EXPRESSION in FILE.
xpath() {
    xmllint --xpath "$2" "$1" 2>/dev/null
}

# suite_counts FILE: "tests failures errors skipped" of its testsuite, and the number of
# testcases, failures and skips it really holds, e.g. "3 0 0 0 / 3 0 0".
suite_counts() {
    local s=/testsuites/testsuite
    printf '%s %s %s %s / %s %s %s\n' "$(xpath "$1" "string($s/@tests)")" \
        "$(xpath "$1" "string($s/@failures)")" "$(xpath "$1" "string($s/@errors)")" \
        "$(xpath "$1" "string($s/@skipped)")" "$(xpath "$1" "count($s/testcase)")" \
        "$(xpath "$1" "count($s/testcase/failure)")" "$(xpath "$1" "count($s/testcase/skipped)")"
}

# The schema bites: a report with a required attribute missing, or with a raw control
# character, is refused (the twin of every `valid` below).
schema_bites() {
    sed 's/ errors="0" skipped=/ skipped=/' "$1" >broken-attribute.xml
    xmllint --schema "$T_JUNIT_XSD" --noout broken-attribute.xml >/dev/null 2>&1 &&
        fail "a testsuite without its errors attribute validates: the schema checks nothing"
    sed '0,/<system-out>/s/<system-out>/<system-out>\x01/' "$1" >broken-character.xml
    cmp -s "$1" broken-character.xml && fail "no <system-out> in $1 to break"
    xmllint --schema "$T_JUNIT_XSD" --noout broken-character.xml >/dev/null 2>&1 &&
        fail "a report holding a raw U+0001 validates"
    return 0
}

# A passing stress: one valid testcase per run, named by its seed, with its time and its
# preemption count (the same as the progress line's); FILE replaced whole.
case_stress_junit_pass() {
    need_xmllint
    echo "an old report" >report.xml
    stress --runs 3 --seed 40 --chaos-rate 1024 --junit report.xml --yield Sched.yield \
        -- "$T_INTERLEAVE" 100
    ((status == 0)) || fail "status $status: $(cat stress.out stress.err)"
    valid report.xml
    schema_bites report.xml
    [[ $(suite_counts report.xml) == "3 0 0 0 / 3 0 0" ]] ||
        fail "counts (tests failures errors skipped / testcases failures skips): $(suite_counts report.xml)"
    local seed i=0 preemptions
    for seed in 40 41 42; do
        i=$((i + 1))
        [[ $(xpath report.xml "string(//testcase[$i]/@name)") == "seed $seed" ]] ||
            fail "testcase $i is not 'seed $seed': $(xpath report.xml "string(//testcase[$i]/@name)")"
        [[ $(xpath report.xml "string(//testcase[$i]/@classname)") == chaos_interleave ]] ||
            fail "classname: $(xpath report.xml "string(//testcase[$i]/@classname)")"
        [[ $(xpath report.xml "string(//testcase[$i]/@time)") =~ ^[0-9]+\.[0-9]{3}$ ]] ||
            fail "time of seed $seed: $(xpath report.xml "string(//testcase[$i]/@time)")"
        preemptions=$(sed -n "s/^ocpreempt stress: run $i\/3 seed $seed: passed, \([0-9]*\) preemptions$/\1/p" stress.out)
        [[ -n $preemptions ]] || fail "no progress line for seed $seed: $(cat stress.out)"
        xpath report.xml "string(//testcase[$i]/system-out)" | head -n 1 |
            grep -qx "$preemptions chaos preemptions" ||
            fail "system-out of seed $seed does not say its $preemptions preemptions"
    done
    grep -qx "ocpreempt stress: JUnit report: $PWD/report.xml" stress.out ||
        fail "the summary does not name the report: $(cat stress.out)"
    [[ -z $(find . -maxdepth 1 -name '.report.xml.*') ]] || fail "temporary files left: $(ls -a)"
}

# shop's lost update: the failing run is a <failure> holding the failure text and the
# replay command (which fails again), the runs after it are listed as skipped.
case_stress_junit_fail() {
    need_xmllint
    export TMPDIR=$T_WORK    # the failing run's kept directory stays with the test
    stress --runs 4 --junit report.xml --yield Shop.yield -- "$T_SHOP"
    ((status == 1)) || fail "stress did not find the bug (status $status): $(tail stress.out)"
    valid report.xml
    schema_bites report.xml
    [[ $(suite_counts report.xml) == "4 1 0 3 / 4 1 3" ]] ||
        fail "counts (tests failures errors skipped / testcases failures skips): $(suite_counts report.xml)"
    [[ $(xpath report.xml "string(//testcase[1]/@name)") == "seed 1" &&
       $(xpath report.xml "string(//testcase[4]/@name)") == "seed 4" ]] ||
        fail "testcases are not seeds 1..4 in order"
    [[ $(xpath report.xml "string(//testcase[1]/failure/@message)") == "exit status 1" ]] ||
        fail "failure message: $(xpath report.xml "string(//testcase[1]/failure/@message)")"
    xpath report.xml "string(//testcase[1]/failure)" >failure.txt
    grep -q '^shop: BUG: ' failure.txt || fail "the failure text lacks the program's output: $(cat failure.txt)"
    grep -Eq '^ +#[0-9]+ +(poll|alloc) +Shop\.sell shop\.ml:[0-9]+$' failure.txt ||
        fail "the failure text lacks the named preemption points: $(cat failure.txt)"
    [[ $(xpath report.xml "string(//testcase[2]/skipped/@message)") == "not run: stress stops at the first failure (seed 1)" ]] ||
        fail "run 2 is not skipped with its reason: $(xpath report.xml "string(//testcase[2]/skipped/@message)")"
    local replay
    replay=$(sed -n 's/^replay: //p' failure.txt | head -n 1)
    [[ $replay == *" run --yield Shop.yield --chaos 1 -- $T_SHOP" ]] || fail "replay command: $replay"
    eval "$replay" >replay.out 2>&1 && fail "the replay command from the report passed"
    grep -q '^shop: BUG: ' replay.out || fail "the replay failed differently: $(cat replay.out)"
}

# Whatever the program prints (control characters, bytes that are not UTF-8, a surrogate,
# U+FFFE, markup), the report is valid XML and keeps what XML can hold.
case_stress_junit_escape() {
    need_xmllint
    export TMPDIR=$T_WORK    # the failing run's kept directory stays with the test
    local nasty='printf "ctl:\001\033[31m <&>\"'"'"' ]]> bad:\377 sur:\355\240\200 nc:\357\277\276 ok:\303\251 cr:\r\n"'
    # The twin: the same bytes put into a report unescaped are refused.
    { printf '<testsuite name="x" tests="1" failures="0" errors="0"><testcase name="y"><system-out>'
      bash -c "$nasty"; printf '</system-out></testcase></testsuite>\n'; } >raw.xml
    xmllint --noout raw.xml >/dev/null 2>&1 && fail "the program's raw output is valid XML: the case tests nothing"
    stress --runs 2 --junit report.xml -- bash -c "$nasty; exit 3"
    ((status == 1)) || fail "status $status: $(cat stress.out stress.err)"
    valid report.xml
    xpath report.xml "string(//testcase[1]/system-out)" >out.txt
    local r=$'\357\277\275'     # U+FFFD in UTF-8, whatever the locale
    grep -aqF "ctl:$r$r[31m <&>\"' ]]> bad:$r sur:$r$r$r nc:$r$r$r ok:"$'\303\251'" cr:"$'\r' out.txt ||
        fail "system-out is not the output with U+FFFD for what XML cannot hold: $(od -c out.txt | head)"
}

# stress_interrupted_when PATTERN STRESS ARGS...: starts stress in the background, sends it
# SIGTERM once its output has a line matching PATTERN, and expects status 143.
stress_interrupted_when() {
    local pattern=$1 pid
    shift
    "$T_LAUNCHER" stress "$@" >stress.out 2>stress.err &
    pid=$!
    for _ in $(seq 300); do
        grep -q -- "$pattern" stress.out && break
        sleep 0.1
    done
    grep -q -- "$pattern" stress.out || fail "stress never printed /$pattern/: $(cat stress.out)"
    sleep 0.5
    kill -TERM "$pid"
    wait "$pid"
    status=$?
    ((status == 143)) || fail "TERM after /$pattern/: status $status: $(cat stress.out stress.err)"
}

# Interrupted: the report lists the runs done, the run in progress and the runs not
# started (skipped, with why), and is valid.
case_stress_junit_interrupted() {
    need_xmllint
    export TMPDIR=$T_WORK    # the failing run's kept directory stays with the test
    stress_interrupted_when 'run 2/5 seed 2: passed' --runs 5 --junit report.xml \
        -- sh -c '[ "$OCPREEMPT_CHAOS" -ge 3 ] && exec sleep 100; echo fine'
    valid report.xml
    [[ $(suite_counts report.xml) == "5 0 0 3 / 5 0 3" ]] ||
        fail "counts (tests failures errors skipped / testcases failures skips): $(suite_counts report.xml)"
    [[ $(xpath report.xml "string(//testcase[3]/skipped/@message)") == "interrupted by SIGTERM during this run" &&
       $(xpath report.xml "string(//testcase[5]/skipped/@message)") == "not run: stress was interrupted by SIGTERM" ]] ||
        fail "skipped runs: $(xpath report.xml '//skipped')"
    [[ -z $(find . -maxdepth 1 -name '.report.xml.*') ]] || fail "temporary files left: $(ls -a)"
    # Interrupted during the failure report (its automatic replay hangs): the failed run
    # is listed as failed, with the report as far as it got.
    stress_interrupted_when '^replay: ' --runs 3 --junit report2.xml \
        -- sh -c '[ -e "$0" ] && exec sleep 100; touch "$0"; echo first; exit 4' "$PWD/marker"
    valid report2.xml
    [[ $(suite_counts report2.xml) == "3 1 0 2 / 3 1 2" ]] ||
        fail "counts after an interrupted report: $(suite_counts report2.xml)"
    xpath report2.xml "string(//testcase[1]/failure)" >failure.txt
    grep -q '^replay: .* run --chaos 1 -- sh -c ' failure.txt &&
        grep -qx '(the failure report was interrupted by SIGTERM)' failure.txt ||
        fail "the interrupted failure text: $(cat failure.txt)"
}

case_stress_junit_usage() {
    mkdir -p adir
    ln -sf elsewhere.xml link.xml
    local args
    for args in "--junit" "--junit -- true" "--junit= -- true" "--junit nodir/r.xml -- true" \
                "--junit adir -- true" "--junit link.xml -- true"; do
        # shellcheck disable=SC2086
        stress $args
        ((status == 2)) || fail "stress $args: status $status, expected 2"
        [[ $(wc -l <stress.err) == 1 && $(cat stress.err) == "ocpreempt: stress: "* ]] ||
            fail "stress $args: not one 'ocpreempt: stress:' line: $(cat stress.err)"
    done
}

# Shards 1/3, 2/3 and 3/3 of seeds 5..14 run each seed exactly once: the seeds the
# progress lines, the reports and the program itself (OCPREEMPT_CHAOS) saw.
case_stress_shard_cover() {
    need_xmllint
    local i report_seeds="" line_seeds="" program_seeds=""
    for i in 1 2 3; do
        stress --runs 10 --seed 5 --shard "$i/3" --junit "shard$i.xml" \
            -- sh -c 'echo "program got seed $OCPREEMPT_CHAOS"'
        ((status == 0)) || fail "shard $i/3: status $status: $(cat stress.out stress.err)"
        cp stress.out "shard$i.out"
        valid "shard$i.xml"
        line_seeds+=$(sed -n "s/^ocpreempt stress: shard $i\/3: run [0-9]*\/[0-9]* seed \([0-9]*\): passed.*/\1/p" stress.out)$'\n'
        report_seeds+=$(xpath "shard$i.xml" '//testcase/@name' | grep -o 'seed [0-9]*' | cut -d' ' -f2)$'\n'
        program_seeds+=$(xpath "shard$i.xml" '//system-out' | sed -n 's/^program got seed //p')$'\n'
    done
    local expected
    expected=$(seq 5 14)
    [[ $(sort -n <<<"${line_seeds%$'\n'}") == "$expected" ]] ||
        fail "progress lines: seeds $(tr '\n' ' ' <<<"$line_seeds"), expected each of 5..14 once"
    [[ $(sort -n <<<"${report_seeds%$'\n'}") == "$expected" ]] ||
        fail "reports: seeds $(tr '\n' ' ' <<<"$report_seeds"), expected each of 5..14 once"
    [[ $(sort -n <<<"${program_seeds%$'\n'}") == "$expected" ]] ||
        fail "the program saw seeds $(tr '\n' ' ' <<<"$program_seeds"), expected each of 5..14 once"
    grep -qx 'ocpreempt stress: shard 2/3: 3 runs passed (seeds 6, 9, 12 of 5..14), 0 chaos preemptions, [0-9]*s' shard2.out ||
        fail "shard 2/3's summary: $(grep 'runs passed' shard2.out)"
    grep -qx 'ocpreempt stress: shard 1/3: 4 runs passed (seeds 5, 8, ..., 14 of 5..14), 0 chaos preemptions, [0-9]*s' shard1.out ||
        fail "shard 1/3's summary: $(grep 'runs passed' shard1.out)"
    [[ $(xpath shard2.xml 'string(/testsuites/testsuite/@name)') == "ocpreempt stress sh (shard 2/3)" ]] ||
        fail "suite name: $(xpath shard2.xml 'string(/testsuites/testsuite/@name)')"
}

case_stress_shard_usage() {
    local value expected
    for value in 0/3 4/3 a/b 3 1/0 /3 2/ -1/3 "1/3/3" ""; do
        stress --runs 10 --shard "$value" -- true
        ((status == 2)) || fail "--shard '$value': status $status, expected 2"
        [[ $(wc -l <stress.err) == 1 && $(cat stress.err) == "ocpreempt: stress: --shard "* ]] ||
            fail "--shard '$value': not one 'ocpreempt: stress: --shard' line: $(cat stress.err)"
        [[ -s stress.out ]] && fail "--shard '$value': ran something: $(cat stress.out)"
    done
    stress --runs 10 --shard 4/3 -- true
    expected="ocpreempt: stress: --shard 4/3: I must be between 1 and 3 (try 'ocpreempt --help')"
    [[ $(cat stress.err) == "$expected" ]] || fail "4/3: $(cat stress.err)"
    stress --runs 2 --shard 3/3 -- true
    ((status == 2)) && grep -q 'gets no run of --runs 2' stress.err || fail "3/3 of 2 runs: $status $(cat stress.err)"
    stress --runs 3 --shard=3/3 -- true
    ((status == 0)) && grep -q 'shard 3/3: 1 runs passed (seed 3 of 1..3)' stress.out ||
        fail "--shard=3/3 of 3 runs: $status $(cat stress.out stress.err)"
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
