#!/usr/bin/env python3
"""check_chrome_trace.py TRACE [--stats STATS_JSON]: checks an ocpreempt chrome trace
(OCPREEMPT_TRACE_FORMAT=chrome) against the trace-event format that Perfetto and
chrome://tracing read, and against the stats of the same run.

Format: valid JSON, an object with a traceEvents list; per phase the fields it requires
(M: name, pid, args.name; X: name, pid, tid, ts, dur >= 0; B/E: pid, tid, ts; i/I: name,
pid, tid, ts, s in t/p/g; C: name, pid, ts, numeric args); B/E balanced per track
(pid, tid); timestamps non-decreasing per track in file order; complete events on a
track never overlap (one fiber runs at a time on a thread); every track with events has a
thread_name. With --stats: one preemption instant per preemption the stats count, and one
refusal instant per refusal the hook judged for a fiber (the skip_* counters but
skip_main_fiber, never a fiber's, and skip_switched, dropped before any judgement).
Exits 1 with the first disagreement.
"""
import json, sys
from collections import defaultdict


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_event(i, e):
    ph = e.get("ph")
    need = {"M": ("name", "pid", "args"), "X": ("name", "pid", "tid", "ts", "dur"),
            "B": ("pid", "tid", "ts"), "E": ("pid", "tid", "ts"),
            "i": ("name", "pid", "tid", "ts", "s"), "I": ("name", "pid", "tid", "ts", "s"),
            "C": ("name", "pid", "ts", "args")}
    if ph not in need:
        fail(f"event {i}: unknown phase {ph!r}")
    for field in need[ph]:
        if field not in e:
            fail(f"event {i} ({ph}): no {field}")
    if "ts" in e and not number(e["ts"]):
        fail(f"event {i}: ts {e['ts']!r} is not a number")
    if ph == "X" and not (number(e["dur"]) and e["dur"] >= 0):
        fail(f"event {i}: dur {e['dur']!r}")
    if ph in "iI" and e["s"] not in ("t", "p", "g"):
        fail(f"event {i}: instant scope {e['s']!r}")
    if ph == "C" and not all(number(v) for v in e["args"].values()):
        fail(f"event {i}: counter args must be numbers: {e['args']}")
    if ph == "M" and "name" not in e["args"]:
        fail(f"event {i}: metadata without args.name")


def main():
    args = sys.argv[1:]
    stats = None
    if "--stats" in args:
        k = args.index("--stats")
        stats = json.load(open(args[k + 1]))["ocpreempt_stats"]
        del args[k:k + 2]
    try:
        trace = json.load(open(args[0]))
    except ValueError as e:
        fail(f"not JSON: {e}")
    events = trace.get("traceEvents") if isinstance(trace, dict) else None
    if not isinstance(events, list):
        fail("no traceEvents list")
    last_ts = {}
    open_b = defaultdict(int)
    x_end = {}
    named, used = set(), set()
    instants = defaultdict(int)
    for i, e in enumerate(events):
        check_event(i, e)
        ph = e["ph"]
        track = (e["pid"], e.get("tid", 0))
        if ph == "M":
            if e["name"] == "thread_name":
                named.add(track)
            continue
        if ph != "C":
            used.add(track)
        if e["ts"] < last_ts.get(track, float("-inf")):
            fail(f"event {i}: ts {e['ts']} before {last_ts[track]} on track {track}")
        last_ts[track] = e["ts"]
        if ph == "B":
            open_b[track] += 1
        elif ph == "E":
            open_b[track] -= 1
            if open_b[track] < 0:
                fail(f"event {i}: E without B on track {track}")
        elif ph == "X":
            # runs are consecutive: a start may equal the previous end (up to rounding)
            if e["ts"] + 0.002 < x_end.get(track, float("-inf")):
                fail(f"event {i}: slice at {e['ts']} overlaps the previous one "
                     f"(ends {x_end[track]}) on track {track}")
            x_end[track] = e["ts"] + e["dur"]
        elif ph in "iI":
            instants[e.get("cat", "")] += 1
    for track, n in open_b.items():
        if n:
            fail(f"track {track}: {n} B without E")
    if used - named:
        fail(f"tracks without thread_name: {sorted(used - named)}")
    if stats is not None:
        # Exited threads whose record another thread had to take before the monitor read
        # their logs (only with all 512 records taken) lose their last events: counted.
        unread = stats.get("fiber_accounting", {}).get("exited_threads_unread", 0)
        if instants["preemption"] != stats["preemptions"] and not (
                unread > 0 and instants["preemption"] < stats["preemptions"]):
            fail(f"{instants['preemption']} preemption instants, the stats count "
                 f"{stats['preemptions']}")
        refusals = sum(v for k, v in stats.items() if k.startswith("skip_")) - \
            stats["skip_main_fiber"] - stats["skip_switched"]
        if instants["refusal"] != refusals and not (unread > 0 and instants["refusal"] < refusals):
            fail(f"{instants['refusal']} refusal instants, the stats count {refusals}")
    print(f"ok: {len(events)} events, {len(used)} tracks, "
          f"{instants['preemption']} preemptions, {instants['refusal']} refusals")


main()
