#!/usr/bin/env bash
# maps_test.sh: the shim's front (libocpreempt.so) loads the engine, and with it libdw and
# libelf, only into processes that may have something to preempt. Each case runs a program
# with the front preloaded and checks which of these objects its address space holds:
#  - an OCaml 5.3 program with no yield named and no known scheduler: the front only;
#  - the same with its yield named, or with OCPREEMPT_LOG=info: the engine and libdw;
#  - the same program linking a unit named like a known scheduler (Eio__Fiber): the engine;
#  - a non-OCaml program (cat /proc/self/maps), even with a yield named: the front only;
#  - OCPREEMPT_DISABLE=1 with a yield named: the front only;
#  - a copy whose unit list (caml_globals_map) has a doctored header claiming a block far
#    larger than the program: runs exactly as alone, and the front, unable to read the list,
#    lets the engine decide (which finds nothing and stays silent).
# Environment: T_SHIM (libocpreempt.so), T_PLAIN (maps_probe, 5.3), T_EIO (maps_probe
# linked with a fake Eio__Fiber unit).
set -uo pipefail
fails=0

# objects LABEL ENV... -- PROGRAM...: the deduplicated ocpreempt/libdw/libelf objects mapped.
objects() {
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    env LD_PRELOAD="$T_SHIM" "${envs[@]}" "$@" 2>/dev/null |
        grep -oE '(libocpreempt[-a-z]*|libdw|libelf)[^/ ]*\.so[.0-9]*' | sort -u | tr '\n' ' '
}

expect() {   # expect LABEL WANT(engine|front) OBJECTS
    local label=$1 want=$2 got=$3
    local has_front=0 has_engine=0 has_dw=0
    [[ $got == *"libocpreempt.so "* ]] && has_front=1
    [[ $got == *libocpreempt-engine* ]] && has_engine=1
    [[ $got == *libdw* || $got == *libelf* ]] && has_dw=1
    if ((!has_front)); then
        echo "FAIL $label: the front is not mapped (was the shim preloaded?): [$got]"
        fails=$((fails + 1))
    elif [[ $want == front ]] && ((has_engine || has_dw)); then
        echo "FAIL $label: nothing to do, yet mapped: [$got]"
        fails=$((fails + 1))
    elif [[ $want == engine ]] && ! ((has_engine && has_dw)); then
        echo "FAIL $label: the engine and libdw should be loaded: [$got]"
        fails=$((fails + 1))
    else
        echo "ok $label: [$got]"
    fi
}

expect "OCaml 5.3, nothing to do" front "$(objects -- "$T_PLAIN")"
expect "OCaml 5.3, stats asked, nothing to do" front "$(objects OCPREEMPT_STATS=1 -- "$T_PLAIN")"
expect "OCaml 5.3, yield named" engine "$(objects OCPREEMPT_YIELD=Maps_probe.yield -- "$T_PLAIN")"
expect "OCaml 5.3, log info" engine "$(objects OCPREEMPT_LOG=info -- "$T_PLAIN")"
expect "OCaml 5.3, known scheduler unit linked" engine "$(objects -- "$T_EIO")"
expect "non-OCaml, yield named" front "$(objects OCPREEMPT_YIELD=Maps_probe.yield -- cat /proc/self/maps)"
expect "disabled, yield named" front \
    "$(objects OCPREEMPT_DISABLE=1 OCPREEMPT_YIELD=Maps_probe.yield -- "$T_PLAIN")"
# The doctored copy: the header word before caml_globals_map gets wosize 2^40.
doctored=$(mktemp)
trap 'rm -f "$doctored"' EXIT
cp "$T_PLAIN" "$doctored" && chmod +x "$doctored"
python3 - "$doctored" <<'PY' || { echo "FAIL: cannot doctor the copy"; exit 1; }
import struct, subprocess, sys
path = sys.argv[1]
addr = next(int(l.split()[0], 16) for l in subprocess.run(
    ["nm", "-D", path], capture_output=True, text=True, check=True).stdout.splitlines()
    if l.endswith(" caml_globals_map"))
for l in subprocess.run(["readelf", "-lW", path], capture_output=True, text=True,
                        check=True).stdout.splitlines():
    f = l.split()
    if f and f[0] == "LOAD":
        off, vaddr, filesz = int(f[1], 16), int(f[2], 16), int(f[4], 16)
        if vaddr <= addr - 8 < vaddr + filesz:
            with open(path, "r+b") as fh:
                fh.seek(off + addr - 8 - vaddr)
                fh.write(struct.pack("<Q", (1 << 40 << 10) | 252))
            sys.exit(0)
sys.exit(1)
PY
"$T_PLAIN" >"$doctored.alone" 2>&1
alone=$?
got=$(objects -- "$doctored")
env LD_PRELOAD="$T_SHIM" "$doctored" >/dev/null 2>"$doctored.err"
with=$?
if ((alone != 0 || with != 0)) || [[ -s $doctored.err ]]; then
    echo "FAIL doctored unit list: exit $with (alone $alone), stderr: $(cat "$doctored.err")"
    fails=$((fails + 1))
else
    expect "doctored unit list, silent" engine "$got"
fi
rm -f "$doctored.alone" "$doctored.err"
((fails == 0))
