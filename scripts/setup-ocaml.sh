#!/usr/bin/env bash
# Build OCaml into a cache outside the build tree, once per version. A completed install
# leaves a stamp; later runs skip. The sources come from:
#  - the npm registry's `ocaml` source package for 5.3.0 and 5.1.4 (what it carries);
#  - a tarball ocaml-VERSION.tar.gz in the toolchains folder for any other version (5.2.0,
#    5.4.0-dev-2024-10-24), checked against that folder's SHA256SUMS; where the tarball is
#    absent the version is skipped with one line (users do not have that folder).
#
#   scripts/setup-ocaml.sh [VERSION...]        (default: 5.3.0)
#   OCPREEMPT_CACHE=DIR                         (default: $HOME/.cache/ocpreempt)
#   OCPREEMPT_TOOLCHAINS_DIR=DIR                (default: <repo>/../shared/toolchains)
#
# Exit status: 0 every requested version installed or skipped for want of its tarball,
# 1 a build failed (its log is named) or a tarball does not match its checksum.
set -euo pipefail

cache=${OCPREEMPT_CACHE:-$HOME/.cache/ocpreempt}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
toolchains=${OCPREEMPT_TOOLCHAINS_DIR:-$root/../shared/toolchains}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(5.3.0)
jobs=$(nproc 2>/dev/null || echo 2)

# The versions npm's `ocaml` package carries; any other comes from a tarball.
from_npm() { [ "$1" = 5.3.0 ] || [ "$1" = 5.1.4 ]; }

# Fetches the sources of $1 into $cache/src as ocaml-$1.tgz (npm) or checks the
# toolchains folder's tarball; prints the archive's path. Runs inside the build's log.
source_archive() {
    local v=$1
    if from_npm "$v"; then
        (cd "$cache/src" && npm pack --silent "ocaml@$v") >&2 || return 1
        echo "$cache/src/ocaml-$v.tgz"
        return 0
    fi
    local tarball=$toolchains/ocaml-$v.tar.gz
    (cd "$toolchains" && grep " ocaml-$v.tar.gz\$" SHA256SUMS | sha256sum --check --quiet) >&2 || {
        echo "ocaml $v: $tarball does not match $toolchains/SHA256SUMS" >&2
        return 1
    }
    echo "$tarball"
}

build_one() {
    local v=$1 prefix=$cache/ocaml-$1 src=$cache/src/ocaml-$1 log=$cache/ocaml-$1.log
    if [ -f "$prefix/.ocpreempt-installed" ]; then
        echo "ocaml $v: cached in $prefix"
        return 0
    fi
    if ! from_npm "$v" && [ ! -f "$toolchains/ocaml-$v.tar.gz" ]; then
        echo "ocaml $v: skipped (no $toolchains/ocaml-$v.tar.gz; only npm's 5.3.0 and 5.1.4 build without it)"
        return 0
    fi
    echo "ocaml $v: building into $prefix (log: $log)"
    rm -rf "$src" "$prefix"
    mkdir -p "$src" "$cache/src"
    local archive
    {
        archive=$(source_archive "$v") &&
        tar -xzf "$archive" -C "$src" --strip-components=1 &&
        cd "$src" &&
        ./configure --prefix="$prefix" --disable-ocamldoc --disable-debugger \
                    --disable-ocamltest -q &&
        make -j"$jobs" &&
        make install
    } >"$log" 2>&1 || {
        echo "ocaml $v: build FAILED; see $log (last lines below)" >&2
        tail -n 15 "$log" >&2
        return 1
    }
    # Keep the sources: the tests use the runtime sources and OCaml's own testsuite.
    touch "$prefix/.ocpreempt-installed"
    echo "ocaml $v: installed"
}

mkdir -p "$cache"
status=0
for v in "${versions[@]}"; do
    build_one "$v" || status=1
done
exit $status
