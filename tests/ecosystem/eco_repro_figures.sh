#!/usr/bin/env bash
# eco_repro_figures.sh: the closing note's figure for issue 15's reproducers: each one run
# RUNS times at a 100 us quantum and once per chaos seed (1..SEEDS at 1024/MiB), failures
# counted, with the same checks as their ecosystem tests (CMakeLists.txt in this folder).
#
#   eco_repro_figures.sh BUILD_DIR [RUNS [SEEDS]]     (defaults: 30 runs, seeds 1-20)
#
# BUILD_DIR is a configured and built tree whose ecosystem_build test has run (it holds
# shim/libocpreempt.so and tests/ecosystem/schedulers/eco_*). Prints each reproducer's
# runs and a SUMMARY line; exit 0 if no run failed, 1 otherwise.
set -uo pipefail

build=${1:?usage: eco_repro_figures.sh BUILD_DIR [RUNS [SEEDS]]}
runs=${2:-30}
seeds=${3:-20}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
shim=$build/shim/libocpreempt.so
programs=$build/tests/ecosystem/schedulers
[ -f "$shim" ] || { echo "no shim at $shim (build the tree first)"; exit 2; }
[ -x "$programs/eco_eio" ] || { echo "no programs in $programs (ctest -R ecosystem_build)"; exit 2; }

miou_site='^(caml)?Miou[._]|[ (]miou[a-z0-9_]*\.ml:'
status=0
repro() { "$here/eco_repro.sh" --shim "$shim" --runs "$runs" --seeds "1-$seeds" "$@" || status=1; }

repro --program "$programs/eco_eio" --case both_exit --yield Eio.Fiber.yield \
      --expect-result exits==40
for s in fifos multififos run_fiber; do
    repro --program "$programs/eco_picos" --case "any_all_$s" --yield Picos.Fiber.yield \
          --expect-result lists==2700
done
for m in miou miou055; do
    repro --program "$programs/eco_$m" --case mutex_inline --yield Miou.yield \
          --forbid-site "$miou_site" --expect-result overlaps==0 --expect-result counter==80000
done
exit $status
