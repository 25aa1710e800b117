#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running demo:
#   1. Debian build dependencies (apt-get; skipped when already installed),
#   2. OCaml 5.3.0 (what the demo needs) from the npm registry's source package, built once
#      into ${OCPREEMPT_CACHE:-$HOME/.cache/ocpreempt} (scripts/setup-ocaml.sh); the other
#      releases the tests use are built by scripts/test.sh,
#   3. the project, configured and built with CMake into build/,
#   4. the demo: the probe's verdict on it, then the demo without and with ocpreempt.
#
#   scripts/setup.sh [--no-demo]
# Exit status: 0 done; 1 a step failed (the step says which and where its log is).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OCPREEMPT_BUILD_DIR:-$root/build}
run_demo=1
for arg in "$@"; do
    case $arg in
        --no-demo) run_demo=0 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "setup.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done

step() { printf '\n== %s\n' "$*"; }

install_packages() {
    local pkgs=(cmake pkg-config gcc make libelf-dev libdw-dev gnuplot-nox ocaml-nox
                binutils file time libxml2-utils)
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "Debian packages: all present"
        return 0
    fi
    echo "Debian packages: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

step "Debian build dependencies"
install_packages

step "OCaml toolchains (cached in ${OCPREEMPT_CACHE:-$HOME/.cache/ocpreempt})"
"$root/scripts/setup-ocaml.sh" 5.3.0

step "Build (CMake, $build)"
mkdir -p "$build"
configure_log=$build/setup-configure.log
build_log=$build/setup-build.log
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$configure_log" 2>&1 ||
    { echo "cmake configure failed; see $configure_log" >&2; tail -n 20 "$configure_log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" >"$build_log" 2>&1 ||
    { echo "build failed; see $build_log" >&2; grep -m 20 -E "error|Error" "$build_log" >&2; exit 1; }
echo "built: $build/shim/libocpreempt.so, $build/probe/ocpreempt-probe"

[ $run_demo -eq 1 ] || exit 0

demo=$build/demo/demo
step "Demo: what the probe sees in $demo"
"$build/probe/ocpreempt-probe" --yield Demo.yield "$demo" || true   # verdict shown either way
step "Demo without ocpreempt (the ticker starves while the hog computes)"
"$demo"
step "Demo with ocpreempt (scripts/ocpreempt run --yield Demo.yield --stats -- $demo)"
"$root/scripts/ocpreempt" run --yield Demo.yield --stats -- "$demo"
