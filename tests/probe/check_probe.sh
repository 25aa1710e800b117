#!/usr/bin/env bash
# Runs ocpreempt-probe on one program and checks its exit status and output.
#
#   check_probe.sh PROBE PROGRAM EXPECTED_EXIT [PROBE_ARGS...] -- [CHECK...]
#   check_probe.sh --skip REASON
#
# Each CHECK is an extended regex that must match some stdout line, or:
#   '!RE'      no stdout line may match
#   'last:RE'  the last stdout line must match
#   'err:RE'   some stderr line must match
#   'errlines:N'  stderr must have exactly N lines
# PROGRAM may be a special word, made in a temporary directory: @truncated:SRC (the first
# 4000 bytes of SRC), @corrupt:SRC (SRC with garbage over its program headers), @garbage
# (8 KB of text), @fifo (a FIFO without a writer), @missing (a path that does not exist), or @none (run the probe with
# PROBE_ARGS only: usage tests).
# Exit: 0 all checks passed, 1 a check failed, 77 skipped (--skip, or PROGRAM missing).
set -euo pipefail

if [ "${1:-}" = "--skip" ]; then
    echo "SKIPPED: $2"
    exit 77
fi
probe=$1 program=$2 expected_exit=$3
shift 3
probe_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do probe_args+=("$1"); shift; done
[ $# -gt 0 ] && shift
checks=("$@")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "$program" in
    @truncated:*)
        src=${program#@truncated:}
        [ -f "$src" ] || { echo "SKIPPED: $src not built"; exit 77; }
        head -c 4000 "$src" > "$tmp/truncated"
        program=$tmp/truncated ;;
    @garbage)
        printf '%.0snot an ELF file, just text 0123456789\n' $(seq 1 200) > "$tmp/garbage"
        program=$tmp/garbage ;;
    @corrupt:*)
        # a real ELF header followed by garbage where the program headers were
        src=${program#@corrupt:}
        [ -f "$src" ] || { echo "SKIPPED: $src not built"; exit 77; }
        cp "$src" "$tmp/corrupt"
        printf '%.0scorrupt ' $(seq 1 500) |
            dd of="$tmp/corrupt" bs=1 seek=64 conv=notrunc status=none
        program=$tmp/corrupt ;;
    @fifo)
        # a FIFO nobody writes to: opening it for reading would wait forever
        mkfifo "$tmp/fifo"
        program=$tmp/fifo ;;
    @none) program="" ;;
    @missing) program=$tmp/no-such-program ;;
    *)
        if [ ! -e "$program" ]; then
            echo "SKIPPED: $program was not built (OCaml compiler missing?)"
            exit 77
        fi ;;
esac

set +e
if [ -n "$program" ]; then
    # timeout: a probe that blocks (e.g. on @fifo) fails here rather than hanging CTest.
    timeout 30 "$probe" "$program" "${probe_args[@]}" > "$tmp/out" 2> "$tmp/err"
else
    "$probe" "${probe_args[@]}" > "$tmp/out" 2> "$tmp/err"
fi
status=$?
set -e

echo "--- ocpreempt-probe $program ${probe_args[*]} (exit $status)"
cat "$tmp/out"
if [ -s "$tmp/err" ]; then echo "--- stderr"; cat "$tmp/err"; fi
echo "---"

failed=0
fail() { echo "CHECK FAILED: $*"; failed=1; }

[ "$status" -eq "$expected_exit" ] || fail "exit status $status, expected $expected_exit"
for c in "${checks[@]}"; do
    case "$c" in
        '!'*)      ! grep -Eq -- "${c#!}" "$tmp/out" || fail "output matches forbidden /${c#!}/" ;;
        last:*)    tail -n 1 "$tmp/out" | grep -Eq -- "${c#last:}" || fail "last line does not match /${c#last:}/" ;;
        err:*)     grep -Eq -- "${c#err:}" "$tmp/err" || fail "stderr does not match /${c#err:}/" ;;
        errlines:*) n=$(wc -l < "$tmp/err"); [ "$n" -eq "${c#errlines:}" ] || fail "stderr has $n lines, expected ${c#errlines:}" ;;
        *)         grep -Eq -- "$c" "$tmp/out" || fail "no output line matches /$c/" ;;
    esac
done
[ $failed -eq 0 ] && echo "all checks passed"
exit $failed
