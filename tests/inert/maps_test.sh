#!/usr/bin/env bash
# maps_test.sh: the shim's front (libocpreempt.so) loads the engine, and with it libdw and
# libelf, only into processes that may have something to preempt. Each case runs a program
# with the front preloaded and checks which of these objects its address space holds:
#  - an OCaml 5.3 program with no yield named and no known scheduler: the front only;
#  - the same with its yield named, or with OCPREEMPT_LOG=info: the engine and libdw;
#  - the same program linking a unit named like a known scheduler (Eio__Fiber): the engine;
#  - a non-OCaml program (cat /proc/self/maps), even with a yield named: the front only;
#  - OCPREEMPT_DISABLE=1 with a yield named: the front only.
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
((fails == 0))
