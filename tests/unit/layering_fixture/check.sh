#!/bin/sh
# check.sh PYTHON LAYERING_PY FIXTURE_ROOT FIXTURE_BUILD: the layering check must refuse
# the fixture (exit 1), and its verdict lines (those starting "layering:") must be exactly
# expected.txt: every fault found, nothing else.
python=$1 layering=$2 root=$3 build=$4
out=$("$python" "$layering" --root "$root" --build "$build")
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 1 ]; then
    echo "FAIL: layering.py exited $rc on the fixture, expected 1"
    exit 1
fi
got=$(printf '%s\n' "$out" | grep '^layering:' | sort)
want=$(grep '^layering:' "$root/expected.txt" | sort)
if [ "$got" != "$want" ]; then
    echo "FAIL: verdict lines differ from $root/expected.txt:"
    printf '%s\n' "$got" > "${TMPDIR:-/tmp}/layering-got.$$"
    printf '%s\n' "$want" | diff - "${TMPDIR:-/tmp}/layering-got.$$"
    rm -f "${TMPDIR:-/tmp}/layering-got.$$"
    exit 1
fi
echo "PASS: the check refuses the fixture's circles and upward call"
