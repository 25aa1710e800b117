#!/usr/bin/env bash
# The test command (README, .ci/run): builds the other OCaml releases the tests run against
# (5.1.4 from npm for the refusal tests; 5.2.0 and the 5.4 trunk snapshot from
# ../shared/toolchains, each skipped with one line where its tarball is absent; all cached:
# about 4.5 minutes each the first time), sets up what is missing (scripts/setup.sh
# --no-demo, which configures the build so that it sees those toolchains), then runs the quick CTest suite and the ecosystem tests (real Eio/Miou/Picos, built once
# per build tree from ../shared/ecosystem or $OCPREEMPT_ECOSYSTEM_DIR; one skipped test
# says so where those sources are absent). Extra arguments go to ctest, e.g. `-L stress`.
#
#   scripts/test.sh [ctest args...]          (default: -L 'quick|ecosystem')
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OCPREEMPT_BUILD_DIR:-$root/build}
"$root/scripts/setup-ocaml.sh" 5.3.0 5.1.4 5.2.0 5.4.0-dev-2024-10-24
"$root/scripts/setup.sh" --no-demo
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(-L 'quick|ecosystem')
cd "$build"
ctest --output-on-failure -j2 "${args[@]}"
