#!/usr/bin/env bash
# Runs one libFuzzer harness for a bounded time and reports what it did.
#
#   run_libfuzzer.sh HARNESS CORPUS_DIR SECONDS [SEED_FILE...]
#
# The corpus starts from the seed files (a real executable for the ELF harness) and
# persists in CORPUS_DIR between runs. Every input runs under a 20 s per-input timeout
# (-timeout), so a hang is reported like a crash. Exit 0 clean, 1 libFuzzer found a
# crash, hang or sanitizer error (the reproducer is left in CORPUS_DIR/../), 77 skipped.
set -uo pipefail
harness=$1 corpus=$2 seconds=$3
shift 3
[ -x "$harness" ] || { echo "SKIPPED: $harness not built (no clang -fsanitize=fuzzer)"; exit 77; }
mkdir -p "$corpus"
for s in "$@"; do
    [ -f "$s" ] && cp "$s" "$corpus/seed-$(basename "$s")"
done
artifacts=$(dirname "$corpus")/$(basename "$corpus")-findings/
mkdir -p "$artifacts"
start=$(date +%s)
"$harness" "$corpus" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -max_len=4194304 -artifact_prefix="$artifacts" -print_final_stats=1 > "$corpus.log" 2>&1
rc=$?
runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$corpus.log" | grep -Eo '[0-9]+$')
echo "libfuzzer: $(basename "$harness"): ${runs:-?} inputs in $(( $(date +%s) - start )) s, exit $rc"
if [ "$rc" -ne 0 ]; then
    tail -n 40 "$corpus.log"
    exit 1
fi
exit 0
