#!/bin/bash
# cache_test.sh: the analysis cache (shim/base/cache_store.h) on a real program.
#
#   cache_test.sh SHIM PROGRAM FORGE CHECKENV CASE
#
# PROGRAM is a core test program (poll_loop: fibers that never yield, so every switch is a
# preemption; RESULT line with preempted=N). Every run points the cache at a fresh folder
# of its own (never the user's ~/.cache). Each CASE checks one promise; each *_bites case
# runs the same check where its promise does not hold and requires the check to fail.
#   hit / hit_bites                 the second run says hit (off: never)
#   binary / binary_bites           a touched executable is analysed again (untouched: hit)
#   settings / settings_bites       each variable of the key (checkenv --analysis-inputs)
#                                   makes a miss; the others keep the hit
#   corrupt / corrupt_bites         flipped, truncated, forged files: analysed again, the
#                                   program still right and preempted (a noop forge: hit)
#   concurrent / concurrent_bites   16 starts at once all succeed, the file is valid after
#                                   (truncated after: not valid)
#   readonly / readonly_bites       an unwritable cache home: silent, right, preempted
#                                   (debug log: not silent)
#   off / off_bites                 OCPREEMPT_ANALYSIS_CACHE=off writes nothing (unset:
#                                   the XDG folder gets the file)
#   same / same_bites               a warm run has the cold run's site counts, VERIFY clean
#                                   (another OCPREEMPT_SITES: different counts)
#   bounded / bounded_bites         a folder over 64 files loses its oldest after a write,
#                                   the new file kept (10 files: none removed)
#   libs / libs_bites               a warm start loads neither libelf nor libdw (LD_DEBUG);
#                                   a cold one loads both
set -u
SHIM=$1 PROGRAM=$2 FORGE=$3 CHECKENV=$4 CASE=$5
[ -x "$PROGRAM" ] || { echo "SKIP: $PROGRAM not built (OCaml 5.3 missing: scripts/setup-ocaml.sh)"; exit 77; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocpreempt-cache-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }

# run NAME [VAR=VALUE...]: the program under the shim; out/err/rc in $WORK/NAME.*
# The cache is $WORK/cache unless CACHE_ARG is emptied (then HOME/XDG_CACHE_HOME decide).
CACHE_ARG=(OCPREEMPT_ANALYSIS_CACHE="$WORK/cache")
run() {
    local name=$1; shift
    env -u OCPREEMPT_ANALYSIS_CACHE LD_PRELOAD="$SHIM" OCPREEMPT_YIELD=Sched.yield \
        OCPREEMPT_QUANTUM=1ms OCPREEMPT_STATS=1 OCPREEMPT_LOG=info \
        "${CACHE_ARG[@]}" "$@" "$PROGRAM" >"$WORK/$name.out" 2>"$WORK/$name.err"
    echo $? >"$WORK/$name.rc"
}
status() { sed -n 's/^ocpreempt: analysis cache: \([a-z]*\).*/\1/p' "$WORK/$1.err"; }
active_line() { grep '^ocpreempt: active:' "$WORK/$1.err"; }

# the program ran right (exit 0, its RESULT line) and was preempted
check_right() {
    local name=$1
    [ "$(cat "$WORK/$name.rc")" = 0 ] || { fail "$name: exit $(cat "$WORK/$name.rc")"; cat "$WORK/$name.err"; return 1; }
    grep -q '^RESULT .* preempted=[1-9]' "$WORK/$name.out" ||
        { fail "$name: not preempted or no RESULT: $(cat "$WORK/$name.out")"; return 1; }
}
check_status() {
    [ "$(status "$1")" = "$2" ] || { fail "$1: cache $(status "$1"), expected $2"; return 1; }
}

# ---- the checks, each used by a case and by its twin ------------------------------------
check_hit() {          # [VAR=VALUE...]: first run writes, second hits
    run first "$@"; run second "$@"
    check_right first && check_right second && check_status first written &&
        check_status second hit
}
check_miss_after() {   # ACTION: write, do ACTION, the next run must analyse again (the
    rm -rf "$WORK/cache"   # same file replaced, unless REPLACED=no: a new executable's own)
    run before; check_status before written || return 1
    "$@"
    run after
    check_right after && check_status after written || return 1
    [ "${REPLACED:-yes}" = no ] ||
        grep -q '^ocpreempt: analysis cache: written: replaced a file' "$WORK/after.err" ||
        { fail "after $*: not a replaced file: $(grep 'analysis cache' "$WORK/after.err")"; return 1; }
    [ -z "${SHOW:-}" ] || grep "analysis cache:" "$WORK/after.err"
}
the_file() { ls "$WORK"/cache/*.oac; }
own_program() { cp "$PROGRAM" "$WORK/prog"; PROGRAM=$WORK/prog; }
touch_program() { touch -d '+1 minute' "$PROGRAM"; }
no_change() { :; }
flip_byte() { local f; f=$(the_file); printf '\x5a' | dd of="$f" bs=1 seek=$(( $(stat -c %s "$f") / 2 )) conv=notrunc status=none; }
truncate_file() { local f; f=$(the_file); truncate -s $(( $(stat -c %s "$f") - 100 )) "$f"; }
forge() { "$FORGE" "$(the_file)" "$1" || fail "forge $1 failed"; }
check_silent() {       # NAME: nothing on stderr at the default log level
    [ ! -s "$WORK/$1.err" ] || { fail "$1: not silent: $(head -3 "$WORK/$1.err")"; return 1; }
}
# a run with the default log level and no stats, in an environment of its own
run_quiet() {
    local name=$1; shift
    env -u OCPREEMPT_ANALYSIS_CACHE LD_PRELOAD="$SHIM" OCPREEMPT_YIELD=Sched.yield \
        OCPREEMPT_QUANTUM=1ms "$@" "$PROGRAM" >"$WORK/$name.out" 2>"$WORK/$name.err"
    echo $? >"$WORK/$name.rc"
}
unwritable_home() {    # a home whose cache folder cannot be created (even by root)
    : >"$WORK/not-a-folder"
    echo "HOME=$WORK/not-a-folder/home" "XDG_CACHE_HOME=$WORK/not-a-folder/cache"
}
concurrent_starts() {
    rm -rf "$WORK/cache"
    local pids=() i
    for i in $(seq 16); do run "c$i" & pids+=($!); done
    wait "${pids[@]}"
    for i in $(seq 16); do check_right "c$i" || return 1; done
    [ "$(ls "$WORK/cache" | wc -l)" = 1 ] || { fail "leftovers: $(ls "$WORK/cache")"; return 1; }
}

# A value for each variable of the key, each changing what the analysis reads.
declare -A KEY_VALUE=(
    [OCPREEMPT_YIELD]=Stdlib.print_newline [OCPREEMPT_DENY]=+Kernels
    [OCPREEMPT_CRITICAL]=Kernels.poll_kernel [OCPREEMPT_SITES]=poll
    [OCPREEMPT_ASSUME_RUNTIME]=5.3
)
check_settings() {     # VAR=VALUE...: each must miss after a default run
    local kv
    for kv in "$@"; do
        rm -rf "$WORK/cache"
        run base; run changed "$kv"
        check_status base written || return 1
        [ "$(status changed)" != hit ] || { fail "$kv kept the hit"; return 1; }
    done
}

case $CASE in
hit)          check_hit
              run json OCPREEMPT_STATS_FORMAT=json
              grep -q '"analysis_cache":{"status":"hit"' "$WORK/json.err" ||
                  fail "JSON stats without the hit: $(grep -o '"analysis_cache":{[^}]*}' "$WORK/json.err")" ;;
# A twin runs its check in a subshell: the check's own failure is the twin's success.
hit_bites)    (check_hit OCPREEMPT_ANALYSIS_CACHE=off) >/dev/null && fail "hit with the cache off" ;;
binary)       own_program; REPLACED=no check_miss_after touch_program ;;
binary_bites) own_program; (REPLACED=no check_miss_after no_change) >/dev/null &&
                  fail "an unchanged program was analysed again" ;;
settings)
    inputs=$("$CHECKENV" --analysis-inputs) || fail "checkenv --analysis-inputs"
    for v in $inputs; do
        [ -n "${KEY_VALUE[$v]:-}" ] || fail "no test value for $v (add it to KEY_VALUE)"
    done
    for v in "${!KEY_VALUE[@]}"; do
        grep -qx "$v" <<<"$inputs" || fail "$v is not an analysis input any more"
    done
    args=()
    for v in $inputs; do args+=("$v=${KEY_VALUE[$v]}"); done
    check_settings "${args[@]}" ;;
settings_bites)
    (check_settings OCPREEMPT_QUANTUM=2ms) >/dev/null && fail "an analysis-free variable missed"
    (check_settings OCPREEMPT_LOG=debug) >/dev/null && fail "an analysis-free variable missed" ;;
corrupt)
    for damage in flip_byte truncate_file "forge key-length" "forge record-length" \
                  "forge site-outside" "forge site-counts" "forge shadow-length" \
                  "forge runtime-address" "forge site-bucket" "forge shadow-slot" \
                  "forge shadow-frame"; do
        check_miss_after $damage || echo "  (damage: $damage)"
    done ;;
corrupt_bites) (check_miss_after forge noop) >/dev/null && fail "a noop forge was refused" ;;
concurrent)
    concurrent_starts && run after && check_status after hit ;;
concurrent_bites)
    concurrent_starts && truncate_file && run after &&
        (check_status after hit) >/dev/null && fail "a truncated file was used" ;;
readonly)
    # shellcheck disable=SC2046
    run_quiet quiet $(unwritable_home)
    check_right quiet && check_silent quiet
    CACHE_ARG=()
    run stats $(unwritable_home) && check_right stats && check_status stats unusable ;;
readonly_bites)
    run_quiet loud $(unwritable_home) OCPREEMPT_LOG=debug
    (check_silent loud) >/dev/null && fail "a debug run said nothing" ;;
off)
    run_quiet off OCPREEMPT_ANALYSIS_CACHE=off XDG_CACHE_HOME="$WORK/xdg"
    check_right off && check_silent off
    [ ! -e "$WORK/xdg" ] || fail "off wrote $(find "$WORK/xdg")" ;;
off_bites)
    run_quiet on XDG_CACHE_HOME="$WORK/xdg"
    ls "$WORK"/xdg/ocpreempt/analysis/*.oac >/dev/null 2>&1 || fail "nothing written in XDG_CACHE_HOME" ;;
same|same_bites)
    run cold OCPREEMPT_VERIFY=1 $([ "$CASE" = same_bites ] && echo OCPREEMPT_SITES=poll)
    run warm OCPREEMPT_VERIFY=1
    run warm2 OCPREEMPT_VERIFY=1
    check_right cold && check_right warm2 && check_status warm2 hit || exit 1
    if [ "$(active_line cold)" = "$(active_line warm2)" ]; then
        [ "$CASE" = same_bites ] && fail "different settings gave the same site counts"
    else
        [ "$CASE" = same ] && fail "cold and warm differ: $(active_line cold) / $(active_line warm2)"
    fi ;;
bounded|bounded_bites)
    mkdir -p "$WORK/cache"
    n=$([ "$CASE" = bounded ] && echo 70 || echo 10)
    for i in $(seq "$n"); do
        f=$(printf '%s/%016x.oac' "$WORK/cache" "$i")
        echo stale >"$f"; touch -d "2020-01-01 00:00:$(printf %02d $((i % 60)))" "$f"
    done
    touch -d "2019-01-01" "$WORK/cache/0000000000000001.oac"       # the oldest
    run first; check_right first && check_status first written
    left=$(ls "$WORK/cache" | wc -l)
    if [ "$CASE" = bounded ]; then
        [ "$left" = 64 ] || fail "$left files left, expected 64"
        [ ! -e "$WORK/cache/0000000000000001.oac" ] || fail "the oldest file was kept"
        [ "$(grep -Lx stale "$WORK"/cache/*.oac | wc -l)" = 1 ] || fail "the new file was removed"
    else
        [ "$left" = 11 ] || fail "$left files left, expected 11 (nothing removed under the cap)"
    fi ;;
libs|libs_bites)
    run first
    # no stats: they name sites from the executable, which loads the libraries (design.md)
    if [ "$CASE" = libs ]; then
        run warm LD_DEBUG=files OCPREEMPT_STATS=0 OCPREEMPT_LOG=debug
        grep -q '^ocpreempt: analysis cache .*: hit$' "$WORK/warm.err" || fail "warm: not a hit"
    else run warm LD_DEBUG=files OCPREEMPT_STATS=0 OCPREEMPT_ANALYSIS_CACHE=off; fi
    check_right warm
    loaded=$(grep -Eo 'file=lib(elf|dw)\.so[.0-9]*' "$WORK/warm.err" | sort -u | tr '\n' ' ')
    if [ "$CASE" = libs ]; then [ -z "$loaded" ] || fail "a warm start loaded $loaded"
    else [ -n "$loaded" ] || fail "a cold start loaded neither libelf nor libdw"; fi ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
[ $FAILED = 0 ] && echo "PASS: $CASE"
exit $FAILED
