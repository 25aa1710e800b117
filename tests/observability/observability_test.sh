#!/usr/bin/env bash
# observability_test.sh CASE: the shim's stats, trace and plot on obs_hog_sites, a program
# whose hogs sit at lines marked HOG-LOOP (a poll site) and ALLOC-LOOP (an allocation
# site), run on two domains. Each case fails with a message naming what disagreed.
#
# Environment (set by CMake): T_SHIM T_PROGRAM T_SOURCE T_PLOT T_WORK.
set -euo pipefail
case=${1:?case}
rm -rf "$T_WORK" && mkdir -p "$T_WORK" && cd "$T_WORK"

fail() { printf 'FAIL %s: %s\n' "$case" "$*" >&2; exit 1; }

marker_line() { grep -n "$1" "$T_SOURCE" | head -n 1 | cut -d: -f1; }
hog_line=$(marker_line 'HOG-LOOP')
alloc_line=$(marker_line 'ALLOC-LOOP')

# run_shim ENV... : runs the program preempted at 1 ms, stdout to out.txt, stderr err.txt.
run_shim() {
    env LD_PRELOAD="$T_SHIM" OCPREEMPT_QUANTUM=1ms OCPREEMPT_YIELD=Obs_sched.yield "$@" \
        "$T_PROGRAM" >out.txt 2>err.txt ||
        { cat err.txt >&2; fail "program exited with $?"; }
    grep -qx 'hog_sites: done' out.txt || fail "program output: $(cat out.txt)"
}

stat() {   # stat KEY: a value from the parseable stats line in err.txt
    grep -m1 '^ocpreempt: stats:' err.txt | tr ' ' '\n' | sed -n "s/^$1=//p"
}

case_hog_site_lines() {
    run_shim OCPREEMPT_STATS=1
    grep -q "top hog sites" err.txt || fail "no hog-site report: $(cat err.txt)"
    grep -Eq "^ocpreempt: +[0-9]+ +poll +.* hog_sites\.ml:$hog_line\$" err.txt ||
        fail "the poll hog at hog_sites.ml:$hog_line is not reported: $(grep -A10 'top hog' err.txt)"
    grep -Eq "^ocpreempt: +[0-9]+ +alloc +Hog_sites\.alloc_hog +hog_sites\.ml:$alloc_line\$" err.txt ||
        fail "the allocation hog at hog_sites.ml:$alloc_line is not reported: $(grep -A10 'top hog' err.txt)"
}

case_per_domain() {
    run_shim OCPREEMPT_STATS=1
    local total d0 d1
    total=$(stat preemptions)
    d0=$(sed -n 's/^ocpreempt: domain 0: .*preemptions \([0-9]*\) .*/\1/p' err.txt)
    d1=$(sed -n 's/^ocpreempt: domain 1: .*preemptions \([0-9]*\) .*/\1/p' err.txt)
    [[ -n $d0 && -n $d1 ]] || fail "expected lines for domains 0 and 1: $(cat err.txt)"
    ((d0 > 0 && d1 > 0)) || fail "each domain has a hog and must be preempted: d0=$d0 d1=$d1"
    ((d0 + d1 == total)) || fail "per-domain preemptions $d0 + $d1 != total $total"
}

case_json_report() {
    run_shim OCPREEMPT_STATS="$T_WORK/stats.json" OCPREEMPT_STATS_FORMAT=json
    [[ ! -s err.txt ]] || fail "stats went to a file, stderr must stay empty: $(cat err.txt)"
    python3 - "$T_WORK/stats.json" "$hog_line" "$alloc_line" <<'PY' || fail "JSON report"
import json, sys
report = json.load(open(sys.argv[1]))["ocpreempt_stats"]
hog, alloc = int(sys.argv[2]), int(sys.argv[3])
for key in ("requests", "preemptions", "preempt_poll", "preempt_alloc", "skip_denied",
            "latency_p50_ns", "latency_p99_ns", "latency_max_ns", "longest_run_ns",
            "domains", "hog_sites"):
    assert key in report, f"missing key {key}"
assert report["preemptions"] == report["preempt_poll"] + report["preempt_alloc"], report
assert sum(d["preemptions"] for d in report["domains"]) == report["preemptions"]
assert {d["domain"] for d in report["domains"]} >= {0, 1}, report["domains"]
locations = {(s["kind"], s["location"]) for s in report["hog_sites"]}
assert ("poll", f"hog_sites.ml:{hog}") in locations, locations
assert ("alloc", f"hog_sites.ml:{alloc}") in locations, locations
assert len(report["hog_sites"]) <= 10
counts = [s["count"] for s in report["hog_sites"]]
assert counts == sorted(counts, reverse=True), counts
PY
}

# The shim's own cost in the JSON stats: monitor_cpu_ns (the monitor thread's own CPU
# clock) and hook_total_ns (the hook's time over every call with a request pending). At
# 100 us the monitor wakes thousands of times: its CPU is > 0 and within the process's CPU
# (wait4); the hook's total covers at least the injected preemptions' own time. The twin,
# the same program with a 10 s quantum, is never asked to yield: hook_total_ns is 0 and the
# monitor, waking a few times, uses under a fifth of its CPU at 100 us (a ratio of two
# runs, not a timing: ~4000 wakes against ~2).
case_shim_cost_json() {
    python3 - "$T_SHIM" "$T_PROGRAM" "$T_WORK" <<'PY' || fail "shim cost figures"
import json, os, subprocess, sys
shim, program, work = sys.argv[1:4]
def run(quantum):
    path = os.path.join(work, f"stats-{quantum}.json")
    env = dict(os.environ, LD_PRELOAD=shim, OCPREEMPT_QUANTUM=quantum,
               OCPREEMPT_YIELD="Obs_sched.yield", OCPREEMPT_STATS=path,
               OCPREEMPT_STATS_FORMAT="json")
    p = subprocess.Popen([program], env=env, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, f"{quantum}: exit status {status}"
    return json.load(open(path))["ocpreempt_stats"], (ru.ru_utime + ru.ru_stime) * 1e9
hot, hot_cpu = run("100us")
idle, _ = run("10s")
for r in (hot, idle):
    for key in ("monitor_cpu_ns", "hook_total_ns"):
        assert key in r and isinstance(r[key], int) and r[key] >= 0, (key, r.get(key))
    for d in r["domains"]:
        assert d["hook_total_ns"] >= 0, d
    assert sum(d["hook_total_ns"] for d in r["domains"]) <= r["hook_total_ns"] + len(r["domains"]), r
assert hot["preemptions"] > 100, hot["preemptions"]
assert 0 < hot["monitor_cpu_ns"] <= hot_cpu, (hot["monitor_cpu_ns"], hot_cpu)
assert hot["hook_total_ns"] >= hot["hook_ns_mean"] * hot["preemptions"] > 0, hot
assert idle["hook_calls"] == 0 and idle["hook_total_ns"] == 0, idle
assert idle["monitor_cpu_ns"] * 5 < hot["monitor_cpu_ns"], (idle["monitor_cpu_ns"], hot["monitor_cpu_ns"])
print(f"monitor {hot['monitor_cpu_ns']} ns (10s: {idle['monitor_cpu_ns']}), hook {hot['hook_total_ns']} ns, "
      f"process {hot_cpu:.0f} ns")
PY
}

case_trace_matches_stats() {
    run_shim OCPREEMPT_STATS=1 OCPREEMPT_TRACE="$T_WORK/run.trace"
    local preemptions lines
    preemptions=$(stat preemptions)
    [[ $(head -n 1 run.trace) == '# ocpreempt-trace v2' ]] || fail "trace header"
    lines=$(tail -n +2 run.trace | wc -l)
    ((lines == preemptions)) || fail "trace has $lines records, stats say $preemptions"
    awk -F'\t' 'NR > 1 && (NF != 6 || $6 == "" || $1 !~ /^[0-9]+$/ || $2 !~ /^[01]$/ ||
                  ($3 != "poll" && $3 != "alloc") || $4 !~ /^[0-9]+$/) { bad = NR }
                END { exit bad ? 1 : 0 }' run.trace || fail "malformed trace record"
    grep -q "hog_sites.ml:$alloc_line" run.trace || fail "trace does not name the alloc hog"
}

case_plot_from_trace() {
    run_shim OCPREEMPT_TRACE="$T_WORK/run.trace"
    command -v gnuplot >/dev/null || { echo "gnuplot missing"; exit 77; }
    "$T_PLOT" run.trace -o plot.png >/dev/null || fail "ocpreempt-plot failed"
    [[ $(head -c 8 plot.png | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
        fail "plot.png is not a PNG"
}

case_latency_figures() {
    run_shim OCPREEMPT_STATS=1
    local p50 p99 max samples preemptions longest
    p50=$(stat latency_p50_ns); p99=$(stat latency_p99_ns); max=$(stat latency_max_ns)
    samples=$(stat latency_samples); preemptions=$(stat preemptions)
    longest=$(stat longest_run_ns)
    # One sample per preemption, but each thread's last is still pending at exit.
    ((samples >= preemptions - 2 && samples <= preemptions)) ||
        fail "latency samples $samples for $preemptions preemptions"
    # Buckets are 1 us wide: p99 (a bucket floor) may not exceed max by a bucket.
    ((p50 <= p99 && p99 <= max + 1000)) || fail "p50 $p50 <= p99 $p99 <= max $max violated"
    ((longest >= 1000000)) || fail "longest run $longest ns: a 1 ms quantum was not reached"
}

case_stats_off_silent() {
    run_shim
    [[ ! -s err.txt ]] || fail "without OCPREEMPT_STATS stderr must be empty: $(cat err.txt)"
}

# The retired signal mode: asking for it leaves the shim off (no stats although asked for),
# the program runs as without the shim, and stderr holds exactly the one line that says
# what happened and what to do.
case_retired_signal_mode() {
    local setting
    for setting in OCPREEMPT_REQUEST=signal OCPREEMPT_SIGNAL=SIGURG; do
        run_shim OCPREEMPT_STATS=1 "$setting"
        [[ $(wc -l <err.txt) == 1 ]] || fail "$setting: want one line, got: $(cat err.txt)"
        grep -q '^ocpreempt: stats:' err.txt && fail "$setting: the shim must stay off"
        grep -Eq "^ocpreempt: $setting .*(removed|no longer exists).*; unset ${setting%%=*} \(preemption disabled\)\$" err.txt ||
            fail "$setting: line does not say the mode was removed and to unset it: $(cat err.txt)"
    done
    run_shim OCPREEMPT_STATS=1 OCPREEMPT_REQUEST=monitor
    grep -q '^ocpreempt: stats:' err.txt || fail "OCPREEMPT_REQUEST=monitor must keep the shim on"
}

# A setting that changes nothing in its combination is said once (adversary F9): a chrome
# format without a trace file, self-clocking in chaos mode. Twin: with the trace file and
# without chaos, stderr stays empty.
case_settings_without_effect() {
    run_shim OCPREEMPT_TRACE_FORMAT=chrome
    grep -q '^ocpreempt: OCPREEMPT_TRACE_FORMAT=chrome without OCPREEMPT_TRACE: no trace is written' err.txt ||
        fail "chrome format without a trace file: no line said so: $(cat err.txt)"
    run_shim OCPREEMPT_SELF_CLOCK=1 OCPREEMPT_CHAOS=7
    grep -q '^ocpreempt: OCPREEMPT_SELF_CLOCK=1 has no effect in chaos mode' err.txt ||
        fail "self-clocking in chaos mode: no line said so: $(cat err.txt)"
    run_shim OCPREEMPT_TRACE_FORMAT=chrome OCPREEMPT_TRACE="$T_WORK/t.json" OCPREEMPT_SELF_CLOCK=1
    [[ ! -s err.txt ]] || fail "settings with an effect must stay silent: $(cat err.txt)"
}

# The chrome trace (issue 19): one file per process, which the format checker accepts and
# which holds one instant per preemption and refusal the stats count; both domains have
# their track.
chrome_run() {
    run_shim OCPREEMPT_STATS="$T_WORK/stats.json" OCPREEMPT_STATS_FORMAT=json \
        OCPREEMPT_TRACE="$T_WORK/run.json" OCPREEMPT_TRACE_FORMAT=chrome
    local files=(run.*.json)
    [[ ${#files[@]} == 1 && -f ${files[0]} ]] || fail "want one run.<pid>.json, got: $(ls)"
    [[ ! -e run.json ]] || fail "the chrome trace must not write run.json itself"
    mv "${files[0]}" trace.json
}

case_chrome_trace() {
    chrome_run
    python3 "$T_CHECK_CHROME" trace.json --stats stats.json || fail "chrome trace rejected"
    local tracks
    tracks=$(grep -c '"name":"thread_name"' trace.json)
    ((tracks >= 2)) || fail "two domains ran fibers, the trace has $tracks thread tracks"
    grep -q '"name":"Hog_sites.poll_hog hog_sites.ml:[0-9]*"' trace.json ||
        fail "no slice named after the poll hog's fiber"
}

# The checker's twin: broken versions of a real trace must each be rejected, for the reason
# broken.
case_chrome_trace_broken() {
    chrome_run
    python3 "$T_CHECK_CHROME" trace.json --stats stats.json >/dev/null || fail "the intact trace is rejected"
    python3 - <<'PY'
import json
t = json.load(open("trace.json"))
ev = t["traceEvents"]
def save(name, events):
    json.dump({**t, "traceEvents": events}, open(name, "w"))
first = next(i for i, e in enumerate(ev) if e.get("cat") == "preemption")
save("dropped.json", ev[:first] + ev[first + 1:])
last_x = max(i for i, e in enumerate(ev) if e["ph"] == "X")
save("backwards.json", ev[:last_x] + [{**ev[last_x], "ts": 0}] + ev[last_x + 1:])
x = ev[last_x]
save("unbalanced.json", ev + [{"ph": "B", "name": "x", "pid": x["pid"], "tid": x["tid"], "ts": 1e12}])
save("no_dur.json", ev[:last_x] + [{k: v for k, v in x.items() if k != "dur"}] + ev[last_x + 1:])
PY
    head -c 2000 trace.json >truncated.json
    local broken want
    for broken in dropped:'preemption instants' backwards:'before' unbalanced:'B without E' \
                  no_dur:'no dur' truncated:'not JSON'; do
        want=${broken#*:}
        if python3 "$T_CHECK_CHROME" "${broken%%:*}.json" --stats stats.json >check.txt; then
            fail "the checker accepted ${broken%%:*}.json"
        fi
        grep -q "$want" check.txt || fail "${broken%%:*}.json rejected for another reason: $(cat check.txt)"
    done
}

# A forked child's chrome trace, and a process whose fibers all end before the monitor
# first reads their logs (short_fork.ml): each file, its own process's alone, names every
# track it has (the checker) and holds no record of the other process's thread (the
# parent's main thread has tid = its pid; the child forked from it has tid = its own pid).
# The twin: the same foreign-thread check on the parent's own file must bite.
case_chrome_trace_short_fork() {
    env LD_PRELOAD="$T_SHIM" OCPREEMPT_YIELD=Obs_sched.yield OCPREEMPT_QUANTUM=1ms \
        OCPREEMPT_TRACE="$T_WORK/run.json" OCPREEMPT_TRACE_FORMAT=chrome \
        "$T_SHORT_FORK" >out.txt 2>err.txt || { cat err.txt >&2; fail "program exited with $?"; }
    grep -q '^short_fork: child done' out.txt || fail "program output: $(cat out.txt)"
    local files=(run.*.json) parent child f
    ((${#files[@]} == 2)) || fail "want two run.<pid>.json (parent, child), got: $(ls)"
    parent=$(sed -n 's/^.*"process_name","pid":\([0-9]*\).*/\1/p' "${files[0]}")
    child=$(sed -n 's/^.*"process_name","pid":\([0-9]*\).*/\1/p' "${files[1]}")
    [[ -n $parent && -n $child ]] || fail "no process_name in $(ls)"
    # the parent waited for the child: it is the one whose file holds both pids' order
    ((parent < child)) || { f=$parent; parent=$child; child=$f; }
    for f in "${files[@]}"; do
        python3 "$T_CHECK_CHROME" "$f" >check.txt || fail "$f rejected: $(cat check.txt)"
    done
    foreign() { grep -c "\"tid\":$1[,}]" "$2" || true; }
    (($(foreign "$parent" "run.$child.json") == 0)) ||
        fail "the child's file holds the parent's records: $(foreign "$parent" "run.$child.json")"
    (($(foreign "$parent" "run.$parent.json") > 0)) || fail "twin: the parent's own records not found"
    grep -q '"name":"thread_name","pid":'"$child"',"tid":'"$child" "run.$child.json" ||
        fail "the child's track has no thread_name"
}

# Resuming a used continuation (used_continuation.ml) raises, without a switch, under the
# per-fiber switch log too (stats on): the program's own output, exit status 0. The twin:
# the fiber table in the stats shows the switch log was on, so the run did go through the
# logging trampoline.
case_stats_used_continuation() {
    env LD_PRELOAD="$T_SHIM" OCPREEMPT_YIELD=Used_continuation.yield OCPREEMPT_STATS=1 \
        "$T_USED_CONTINUATION" >out.txt 2>err.txt ||
        fail "program exited with $? under stats: $(tail -3 err.txt)"
    grep -qx 'used_continuation: caught 2000' out.txt || fail "program output: $(cat out.txt)"
    grep -q '^ocpreempt: fibers by longest run' err.txt ||
        fail "no fiber table: the switch log was off, nothing was checked: $(cat err.txt)"
}

# Threads that start, run fibers and end between two of the monitor's passes
# (core_thread_churn: 2000 systhreads, 100 domains): each track of the chrome trace is
# named, whether the monitor read its log live, after the thread ended, or at exit. The
# guard: the trace has the churned threads' tracks at all (>= 50 thread_name entries).
case_chrome_trace_thread_churn() {
    env LD_PRELOAD="$T_SHIM" OCPREEMPT_YIELD=Sched.yield OCPREEMPT_TRACE="$T_WORK/run.json" \
        OCPREEMPT_TRACE_FORMAT=chrome "$T_THREAD_CHURN" >out.txt 2>err.txt ||
        { cat err.txt >&2; fail "program exited with $?"; }
    local files=(run.*.json)
    ((${#files[@]} == 1)) || fail "want one run.<pid>.json, got: $(ls)"
    python3 "$T_CHECK_CHROME" "${files[0]}" >check.txt || fail "trace rejected: $(cut -c1-300 check.txt)"
    local names
    names=$(grep -c '"name":"thread_name"' "${files[0]}")
    ((names >= 50)) || fail "only $names thread tracks: the churned threads were not logged"
}

# Per-fiber preemption counts add up to the total under thread and domain churn (adversary
# F6: a record reused before the monitor read its last entries lost 50-90 preemptions of
# ~3,000 from the fibers' counts, with every loss counter at 0). The twin feeds the same
# check a report with one preemption removed from a fiber group: it must be rejected.
fiber_counts_add_up() {   # fiber_counts_add_up STATS_JSON
    python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["ocpreempt_stats"]
loss = s["fiber_accounting"]
lost = loss["runs_lost"] + loss["events_lost"] + loss.get("exited_threads_unread", 0)
fibers = sum(g["preemptions"] for g in s["fibers"])
print(f"preemptions {s['preemptions']}, in the fibers' groups {fibers}, losses {loss}")
sys.exit(0 if s["preemptions"] > 0 and (fibers == s["preemptions"] or lost > 0) else 1)
PY
}

run_thread_churn_stats() {
    env LD_PRELOAD="$T_SHIM" OCPREEMPT_YIELD=Sched.yield OCPREEMPT_QUANTUM=100us \
        OCPREEMPT_STATS="$T_WORK/stats.json" OCPREEMPT_STATS_FORMAT=json \
        "$T_THREAD_CHURN" >out.txt 2>err.txt || { cat err.txt >&2; fail "program exited with $?"; }
}

case_fiber_counts_thread_churn() {
    run_thread_churn_stats
    fiber_counts_add_up stats.json >check.txt || fail "$(cat check.txt)"
}

case_fiber_counts_thread_churn_twin() {
    run_thread_churn_stats
    python3 - stats.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
g = max(d["ocpreempt_stats"]["fibers"], key=lambda g: g["preemptions"])
g["preemptions"] -= 1
json.dump(d, open("doctored.json", "w"))
PY
    if fiber_counts_add_up doctored.json >check.txt; then
        fail "the check accepted a report one preemption short: $(cat check.txt)"
    fi
}

"case_$case"
echo "ok $case"
