#!/usr/bin/env bash
# Sweep: compile single-file programs of OCaml 5.3's own testsuite with ocamlopt and run
# ocpreempt-probe --json on each. Fails on any probe crash (exit > 2 or a signal), on a
# valid program the probe cannot analyse (exit 2), and when the census is not sensible
# (no descriptors; too few programs with poll/alloc sites; shape recognition too low).
#
#   sweep_testsuite.sh PROBE OCAMLOPT TESTSUITE_DIR WORKDIR [BUDGET_SECONDS]
#
# Files are taken in a fixed pseudo-random order (so every directory gets its share)
# until the time budget is spent; files that do not compile standalone (they need other
# files, flags or libraries) are skipped.
# Exit: 0 pass, 1 fail, 77 skipped (compiler or testsuite missing).
set -euo pipefail

probe=$1 ocamlopt=$2 testsuite=$3 work=$4 budget=${5:-80}
if [ ! -x "$ocamlopt" ] || [ ! -d "$testsuite" ]; then
    echo "SKIPPED: $ocamlopt or $testsuite missing (run scripts/setup-ocaml.sh)"
    exit 77
fi
rm -rf "$work"
mkdir -p "$work/bin" "$work/json"
jobs=$(nproc 2>/dev/null || echo 2)

# One file: compile (skip on failure), probe, write "<status> <name>" to stdout.
sweep_one() {
    local src=$1 name dir
    name=$(echo "${src#"$testsuite"/}" | tr '/' '_' | sed 's/\.ml$//')
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "late $name"                  # over the time budget: not tried
        return 0
    fi
    dir=$(mktemp -d "$work/c.XXXXXX")
    if ! (cd "$dir" && timeout 60 "$ocamlopt" -w -a "$src" -o "$work/bin/$name") \
            > /dev/null 2>&1; then
        rm -rf "$dir"
        echo "nocompile $name"
        return 0
    fi
    rm -rf "$dir"
    local status=0
    "$probe" "$work/bin/$name" --json > "$work/json/$name.json" 2> "$work/json/$name.err" ||
        status=$?
    rm -f "$work/bin/$name"
    echo "$status $name"
}
deadline=$(( $(date +%s) + budget ))
export -f sweep_one
export testsuite work probe ocamlopt deadline

# A fixed shuffle: sort -R hashes each line with keys drawn from --random-source, which
# we make constant, so every run and machine tries the same files in the same order.
find "$testsuite" -name '*.ml' -type f | sort |
    sort -R --random-source=<(yes ocpreempt) | tr '\n' '\0' |
    xargs -0 -n 1 -P "$jobs" bash -c 'sweep_one "$0"' > "$work/results.txt"

# ---- summary -------------------------------------------------------------------------
json_number() {        # json_number KEY FILE: first "KEY": N in FILE
    grep -m1 -E "^ *\"$1\": [0-9]" "$2" | sed -E 's/.*: ([0-9]+).*/\1/'
}
tried=0 compiled=0 crashes=0 errors=0 no_descr=0 with_sites=0 sites=0 recognised=0
while read -r status name; do
    [ "$status" = late ] && continue
    tried=$((tried + 1))
    [ "$status" = nocompile ] && continue
    compiled=$((compiled + 1))
    if [ "$status" -gt 2 ]; then
        crashes=$((crashes + 1)); echo "CRASH: exit $status on $name"; continue
    fi
    if [ "$status" -eq 2 ]; then
        errors=$((errors + 1)); echo "NOT ANALYSED: $name: $(cat "$work/json/$name.err")"
        continue
    fi
    j=$work/json/$name.json
    d=$(json_number descriptors "$j"); p=$(json_number poll_sites "$j")
    a=$(json_number alloc_sites "$j"); r=$(json_number recognised "$j")
    [ "${d:-0}" -gt 0 ] || { no_descr=$((no_descr + 1)); echo "NO DESCRIPTORS: $name"; }
    [ $(( ${p:-0} + ${a:-0} )) -gt 0 ] && with_sites=$((with_sites + 1))
    sites=$((sites + ${p:-0} + ${a:-0})); recognised=$((recognised + ${r:-0}))
    if [ "${r:-0}" -lt $(( ${p:-0} + ${a:-0} )) ]; then
        echo "unrecognised sites in $name:"
        grep -A3 '"retaddr"' "$j" | grep -E '"(function|code)"' | head -4 | sed 's/^ */    /'
    fi
done < "$work/results.txt"

echo "sweep: $tried files tried, $compiled compiled standalone, $crashes probe crashes,"
echo "       $errors not analysed, $no_descr without descriptors,"
echo "       $with_sites of $compiled with poll/alloc sites, $recognised of $sites sites recognised"
[ "$compiled" -ge 20 ] || { echo "FAIL: only $compiled programs compiled (expected >= 20)"; exit 1; }
fail=0
[ "$crashes" -eq 0 ] || { echo "FAIL: probe crashed"; fail=1; }
[ "$errors" -eq 0 ] || { echo "FAIL: probe could not analyse valid programs"; fail=1; }
[ "$no_descr" -eq 0 ] || { echo "FAIL: programs without frame descriptors"; fail=1; }
# every program links the stdlib, whose code has poll and allocation sites
[ $((with_sites * 100)) -ge $((compiled * 95)) ] ||
    { echo "FAIL: fewer than 95% of programs have poll/alloc sites"; fail=1; }
[ $((recognised * 1000)) -ge $((sites * 995)) ] ||
    { echo "FAIL: fewer than 99.5% of poll/alloc sites have a recognised shape"; fail=1; }
[ $fail -eq 0 ] && echo "sweep passed"
exit $fail
