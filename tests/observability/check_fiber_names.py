#!/usr/bin/env python3
"""check_fiber_names.py STATS_JSON EXPECTATION...: the per-fiber section of a stats report
(OCPREEMPT_STATS_FORMAT=json) names the expected fiber groups.

An EXPECTATION is FUNCTION@SOURCE:MARKER[,KEY OP N]...: a group named FUNCTION whose
location is the base name of SOURCE and the line of SOURCE holding MARKER (the function's
definition), with each KEY (fibers, runs, preemptions, refusals) satisfying OP N (== >= >
<=). Also checked: every preemption the stats count belongs to some group (the groups'
preemptions sum to the total), and no run was lost. Exits 1 with what disagreed.
"""
import json, operator, os, re, sys

OPS = {"==": operator.eq, ">=": operator.ge, ">": operator.gt, "<=": operator.le}


def marker_line(source, marker):
    with open(source) as f:
        for n, line in enumerate(f, 1):
            if re.search(r"\(\*\s*" + re.escape(marker) + r"\s*\*\)", line):
                return n
    sys.exit(f"FAIL: marker {marker} not in {source}")


def main():
    stats = json.load(open(sys.argv[1]))["ocpreempt_stats"]
    groups = stats.get("fibers")
    if groups is None:
        sys.exit("FAIL: the stats have no per-fiber section ('fibers')")
    acct = stats.get("fiber_accounting", {})
    if acct.get("runs_lost", 0) != 0:
        sys.exit(f"FAIL: runs lost: {acct}")
    total = sum(g["preemptions"] for g in groups)
    if total != stats["preemptions"]:
        sys.exit(f"FAIL: the groups hold {total} preemptions, the stats count "
                 f"{stats['preemptions']}: {groups}")
    for spec in sys.argv[2:]:
        head, *checks = spec.split(",")
        function, where = head.split("@")
        source, marker = where.rsplit(":", 1)
        location = f"{os.path.basename(source)}:{marker_line(source, marker)}"
        found = [g for g in groups if g["function"] == function and g["location"] == location]
        if not found:
            sys.exit(f"FAIL: no fiber group named {function} {location}; groups: " +
                     "; ".join(f"{g['function']} {g['location']} x{g['fibers']}" for g in groups))
        for check in checks:
            key, op, value = re.fullmatch(r"(\w+)\s*(==|>=|<=|>)\s*(\d+)", check).groups()
            if not OPS[op](found[0][key], int(value)):
                sys.exit(f"FAIL: {function} {location}: {key}={found[0][key]}, want {op} {value}")
    print(f"ok: {len(sys.argv) - 2} groups named as expected")


main()
