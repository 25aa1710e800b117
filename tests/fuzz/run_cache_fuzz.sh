#!/usr/bin/env bash
# Runs the cache reader's libFuzzer harness from a real cache file: the program is run
# once under the shim with the cache in a folder of the build tree, and the file it writes
# is the corpus seed.
#
#   run_cache_fuzz.sh SHIM PROGRAM HARNESS CORPUS_DIR SECONDS
set -uo pipefail
shim=$1 program=$2 harness=$3 corpus=$4 seconds=$5
[ -x "$harness" ] || { echo "SKIPPED: $harness not built (no clang -fsanitize=fuzzer)"; exit 77; }
[ -x "$program" ] || { echo "SKIPPED: $program not built (OCaml 5.3 missing)"; exit 77; }
seed_dir=$corpus-seed-cache
rm -rf "$seed_dir"
LD_PRELOAD=$shim OCPREEMPT_YIELD=Sched.yield OCPREEMPT_ANALYSIS_CACHE=$seed_dir \
    "$program" >/dev/null 2>&1 || { echo "FAIL: $program failed under the shim"; exit 1; }
seeds=("$seed_dir"/*.oac)
[ -f "${seeds[0]}" ] || { echo "FAIL: the shim wrote no cache file in $seed_dir"; exit 1; }
exec "$(dirname "$0")/run_libfuzzer.sh" "$harness" "$corpus" "$seconds" "${seeds[@]}"
