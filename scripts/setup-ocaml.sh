#!/usr/bin/env bash
# Build OCaml from the npm registry's `ocaml` source package into a cache outside the
# build tree, once per version. A completed install leaves a stamp; later runs skip.
#
#   scripts/setup-ocaml.sh [VERSION...]        (default: 5.3.0 5.1.4)
#   OCPREEMPT_CACHE=DIR                         (default: $HOME/.cache/ocpreempt)
#
# Exit status: 0 all requested versions installed, 1 a build failed (its log is named).
set -euo pipefail

cache=${OCPREEMPT_CACHE:-$HOME/.cache/ocpreempt}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(5.3.0 5.1.4)
jobs=$(nproc 2>/dev/null || echo 2)

build_one() {
    local v=$1 prefix=$cache/ocaml-$1 src=$cache/src/ocaml-$1 log=$cache/ocaml-$1.log
    if [ -f "$prefix/.ocpreempt-installed" ]; then
        echo "ocaml $v: cached in $prefix"
        return 0
    fi
    echo "ocaml $v: building into $prefix (log: $log)"
    rm -rf "$src" "$prefix"
    mkdir -p "$src" "$cache/src"
    {
        (cd "$cache/src" && npm pack --silent "ocaml@$v") &&
        tar -xzf "$cache/src/ocaml-$v.tgz" -C "$src" --strip-components=1 &&
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
