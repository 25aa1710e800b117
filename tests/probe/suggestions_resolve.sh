#!/usr/bin/env bash
# Does every name the probe suggests for an unresolved yield resolve to its function?
#
#   suggestions_resolve.sh [--as-unit-fn] PROBE PROGRAM REQUEST
#
# Runs `PROBE PROGRAM --yield REQUEST`, which must not resolve and must list near matches
# ("NAME (SYMBOL)"). Each NAME is then requested in turn: the probe must say it will call
# exactly SYMBOL. --as-unit-fn: the twin that shows the check bites: requests each
# suggestion as Unit.fn, read off its symbol (what the probe used to suggest), and passes
# only when at least one of those does NOT resolve to its symbol.
# Exit 0 pass, 1 fail, 77 PROGRAM not built.
set -euo pipefail

as_unit_fn=0
if [ "${1:-}" = "--as-unit-fn" ]; then as_unit_fn=1; shift; fi
probe=$1 program=$2 request=$3
[ -e "$program" ] || { echo "SKIPPED: $program was not built (OCaml compiler missing?)"; exit 77; }

# (exit status 1: the request does not resolve, as it must not; the text is checked)
if out=$("$probe" "$program" --yield "$request"); then
    echo "FAIL: --yield $request resolved"
    exit 1
fi
# the near matches: from the "near matches:" line to the end of the Yield section
near=$(printf '%s\n' "$out" |
       awk '/^  near matches:/ { on = 1 } on && /^$/ { exit } on { print $(NF-1), $NF }')
if [ -z "$near" ] || printf '%s\n' "$near" | grep -q '^matches: none$'; then
    echo "FAIL: --yield $request gave no near matches"
    printf '%s\n' "$out" | sed -n '/^Yield function/,/^$/p'
    exit 1
fi
failed=0 n=0
while read -r name sym; do
    sym=${sym#(} sym=${sym%)}
    if [ "$as_unit_fn" = 1 ]; then
        unit_fn=${sym#caml}
        name=${unit_fn%_*}
    fi
    n=$((n + 1))
    if answer=$("$probe" "$program" --yield "$name"); then :; fi
    said=$(printf '%s\n' "$answer" | sed -n 's/^  will call: *\(.*\)$/\1/p')
    case "$said" in
        "$name = $sym ("*) echo "ok:   $name -> $sym" ;;
        *) echo "bad:  $name -> ${said:-nothing} (suggested for $sym)"; failed=$((failed + 1)) ;;
    esac
done <<< "$near"
echo "$n suggestion(s), $failed not resolving to their function"
if [ "$as_unit_fn" = 1 ]; then
    [ "$failed" -gt 0 ] || { echo "FAIL: every Unit.fn form resolved: the twin does not bite"; exit 1; }
else
    [ "$failed" -eq 0 ] || exit 1
fi
