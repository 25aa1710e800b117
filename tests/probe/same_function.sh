#!/usr/bin/env bash
# Does a yield name resolve to exactly the function another name resolves to?
#
#   same_function.sh [--expect-different] PROBE PROGRAM NAME REFERENCE
#
# Runs `PROBE PROGRAM --yield NAME` and `--yield REFERENCE`; each must say what it will
# call ("will call: NAME = <symbol> (...)"). Passes when both name the same symbol and the
# probe's address of it ("symbol: <symbol> at 0x...") is the address nm gives that symbol
# in PROGRAM: the re-exported name stands for the real function, not a look-alike.
# --expect-different: passes only when the two resolve to different functions (the twin
# that shows the comparison bites). Exit 0 pass, 1 fail, 77 PROGRAM not built.
set -euo pipefail

want=same
if [ "${1:-}" = "--expect-different" ]; then want=different; shift; fi
probe=$1 program=$2 name=$3 reference=$4
[ -e "$program" ] || { echo "SKIPPED: $program was not built (OCaml compiler missing?)"; exit 77; }

# "symbol address" that the probe says it will call for a name, or nothing
resolve() {
    local out sym addr
    # the exit status is the verdict's (1 when the name does not resolve): the text says
    # which, and is what is checked
    if out=$("$probe" "$program" --yield "$1"); then :; fi
    sym=$(printf '%s\n' "$out" |
          sed -n "s/^  will call: *$(printf '%s' "$1" | sed 's/\./\\./g') = \([^ ]*\) (.*/\1/p")
    [ -n "$sym" ] || { printf '%s\n' "$out" | grep -E '^verdict' >&2; return 0; }
    addr=$(printf '%s\n' "$out" | sed -n "s/^  .*[: ] \(${sym//./\\.}\) at 0x\([0-9a-f]*\).*/\2/p" |
           head -n 1)
    echo "$sym $addr"
}

got=$(resolve "$name")
ref=$(resolve "$reference")
echo "$name -> ${got:-nothing}"
echo "$reference -> ${ref:-nothing}"
[ -n "$got" ] && [ -n "$ref" ] || { echo "FAIL: a name did not resolve"; exit 1; }
sym=${got% *} addr=${got#* }
nm_addr=$(nm "$program" | awk -v s="$sym" '$3 == s && !found { print $1; found = 1 }')
if [ -z "$addr" ] || [ -z "$nm_addr" ] || [ $((16#$addr)) -ne $((16#$nm_addr)) ]; then
    echo "FAIL: the probe places $sym at 0x${addr:-?}, nm at 0x${nm_addr:-?}"
    exit 1
fi
if [ "$got" = "$ref" ]; then verdict=same; else verdict=different; fi
echo "$verdict function (nm: $sym at 0x$nm_addr)"
[ "$verdict" = "$want" ] || { echo "FAIL: expected the $want function"; exit 1; }
