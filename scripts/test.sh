#!/usr/bin/env bash
# The test command (README, .ci/run): sets up what is missing (scripts/setup.sh --no-demo),
# then runs the quick CTest suite and the ecosystem tests (real Eio/Miou/Picos, built once
# per build tree from ../shared/ecosystem or $OCPREEMPT_ECOSYSTEM_DIR; one skipped test
# says so where those sources are absent). Extra arguments go to ctest, e.g. `-L stress`.
#
#   scripts/test.sh [ctest args...]          (default: -L 'quick|ecosystem')
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OCPREEMPT_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" --no-demo
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-L 'quick|ecosystem')
cd "$build"
ctest --output-on-failure -j2 "${args[@]}"
