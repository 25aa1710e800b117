#!/usr/bin/env bash
# The test command (README, .ci/run): sets up what is missing (scripts/setup.sh --no-demo),
# then runs the quick CTest suite. Extra arguments go to ctest, e.g. `-L stress`.
#
#   scripts/test.sh [ctest args...]          (default: -L quick)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OCPREEMPT_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" --no-demo
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-L quick)
cd "$build"
ctest --output-on-failure -j2 "${args[@]}"
