#!/usr/bin/env bash
# build_schedulers.sh: the project's own build of the real OCaml 5 schedulers the ecosystem
# tests run on (Eio 1.5 + eio_posix, Miou after 0.7.0 and 0.5.5, Picos + picos_mux.fifo +
# picos_mux.multififo + picos_std), from the pinned public sources in
# ocaml5-schedulers-src.tar.gz, with plain ocamlopt (5.3, or 5.2 for the 5.2 set; no dune,
# opam or ocamlfind), then the test programs.
#
#   build_schedulers.sh SOURCES_DIR OUTDIR OCAML_BIN_DIR PROGRAMS_DIR
#
# SOURCES_DIR holds the tarball and is only read (in CI it is a read-only copy). Everything
# is written under OUTDIR: src/ (unpacked), lib/<library>/ (compiled units and archives),
# and the programs eco_eio, eco_miou, eco_miou055, eco_picos, eco_moonpool. The libraries
# are built once per OUTDIR (stamp: the tarball's checksum and this script's); programs
# are rebuilt when their sources change. Exit 0 built, 77 no sources (one line says so), 1 failed (the
# log OUTDIR/build.log says where).
#
# How dune is mimicked: a wrapped library `lib` gets an alias module (Lib__ when the
# library has a main module Lib, else Lib) made of `module M = Lib__M` lines, compiled with
# -no-alias-deps, and each module m.ml is compiled as lib__M.ml with -open of the alias;
# dune-configurator steps are replaced by small C programs printing the same constants.
set -euo pipefail

sources=${1:?usage: build_schedulers.sh SOURCES_DIR OUTDIR OCAML_BIN_DIR PROGRAMS_DIR}
out=${2:?OUTDIR}
ocaml_bin=${3:?OCAML_BIN_DIR}
programs=${4:?PROGRAMS_DIR}
tarball=$sources/ocaml5-schedulers-src.tar.gz

if [[ ! -r $tarball ]]; then
    echo "SKIP: no scheduler sources ($tarball not found; set OCPREEMPT_ECOSYSTEM_DIR)"
    exit 77
fi
if [[ ! -x $ocaml_bin/ocamlopt ]]; then
    echo "SKIP: no ocamlopt in $ocaml_bin (scripts/setup-ocaml.sh VERSION builds it)"
    exit 77
fi
export PATH=$ocaml_bin:$PATH
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/build.log
src=$out/src
lib=$out/lib

# ---- one library -----------------------------------------------------------------------

capitalise() { printf '%s%s' "$(tr '[:lower:]' '[:upper:]' <<<"${1:0:1}")" "${1:1}"; }

# Accumulated -I flags of the libraries built so far (later ones see earlier ones).
includes=(-I +unix -I +threads -I +runtime_events)

# library NAME SRCDIR wrapped|unwrapped "MODULES" [OCAMLOPT FLAGS...]
library() {
    local name=$1 dir=$2 wrapping=$3 modules=$4
    shift 4
    local dest=$lib/$name main=no alias="" m unit ext file
    rm -rf "$dest" && mkdir -p "$dest"
    for m in $modules; do [[ $m == "$name" ]] && main=yes; done
    local open_alias=()
    local cmx=()
    if [[ $wrapping == wrapped ]]; then
        alias=$name
        [[ $main == yes ]] && alias=${name}__
        : >"$dest/$alias.ml"
        for m in $modules; do
            [[ $m == "$name" ]] ||
                echo "module $(capitalise "$m") = $(capitalise "$name")__$(capitalise "$m")" >>"$dest/$alias.ml"
        done
        (cd "$dest" && ocamlopt -g -no-alias-deps -w -49 -c "$alias.ml")
        open_alias=(-open "$(capitalise "$alias")")
        cmx+=("$alias.cmx")
    fi
    local sorted
    sorted=$(cd "$dir" && for m in $modules; do
                 echo "$m.ml"
                 [[ -f $m.mli ]] && echo "$m.mli"
             done | xargs ocamldep -sort)
    for file in $sorted; do
        m=${file%.*} ext=${file##*.} unit=$m
        [[ $wrapping == wrapped && $m != "$name" ]] && unit=${name}__$(capitalise "$m")
        cp "$dir/$file" "$dest/$unit.$ext"
        (cd "$dest" && ocamlopt -g "${includes[@]}" -I . "$@" "${open_alias[@]}" -c "$unit.$ext")
        [[ $ext == ml ]] && cmx+=("$unit.cmx")
    done
    (cd "$dest" && ocamlopt -g -a -o "$name.cmxa" "${cmx[@]}")
    includes+=(-I "$dest")
}

# c_stubs NAME C-FILE [GCC FLAGS...]: compiles into lib/NAME/stubs/.
c_stubs() {
    local name=$1 file=$2
    shift 2
    mkdir -p "$lib/$name/stubs"
    gcc -O2 -fPIC -g -I "$(ocamlopt -where)" "$@" -c "$file" \
        -o "$lib/$name/stubs/$(basename "${file%.c}").o"
}

# constants PROGRAM.c > FILE: what dune-configurator would have found, printed by C.
constants() {
    gcc -o "$out/constants" -x c - && "$out/constants"
}

# ---- the libraries -----------------------------------------------------------------------

build_miou() { # NAME DIR: Miou's core libraries (miou.backoff, miou.sync, miou), unwrapped
    local name=$1 dir=$2 mods="" m
    for m in miou_backoff miou_sync miou_fmt miou_gen miou_logs miou_trace miou_vector \
             miou_pqueue miou_sequence miou_queue miou_state miou; do
        [[ -f $dir/$m.ml ]] && mods="$mods $m"   # miou_trace exists from 0.6.0 on
    done
    library "$name" "$dir" unwrapped "$mods"
    includes=("${includes[@]:0:${#includes[@]}-2}")   # the two Miou versions never mix
}

build_eio() {
    local e=$src/eio
    library hmap "$src/hmap/src" unwrapped hmap
    library lwt_dllist "$src/lwt-dllist/src" unwrapped lwt_dllist
    library fmt "$src/fmt/src" unwrapped fmt
    library optint "$src/optint/src" wrapped \
        "optint int63_emul int63_native integer_interface optint_emul optint_native"
    library psq "$src/psq/src" unwrapped psq
    library mtime "$src/mtime/src" unwrapped mtime
    library mtime_clock "$src/mtime/src/clock" unwrapped mtime_clock
    c_stubs mtime_clock "$src/mtime/src/clock/mtime_clock_stubs.c"
    cp "$src/thread-table/src/mix.64.ml" "$src/thread-table/src/mix.ml"   # 64-bit select
    library thread_table "$src/thread-table/src" wrapped "thread_table mix"
    local dla=$src/domain-local-await/src
    cp "$dla/Domain_local_await.ml" "$dla/domain_local_await.ml"
    cp "$dla/Domain_local_await.mli" "$dla/domain_local_await.mli"
    cp "$dla/Thread_intf.ml" "$dla/thread_intf.ml"
    library domain_local_await "$dla" wrapped "domain_local_await thread_intf"
    library cstruct "$src/cstruct/lib" unwrapped "cstruct cstruct_cap"
    c_stubs cstruct "$src/cstruct/lib/cstruct_stubs.c"
    library bigstringaf "$src/bigstringaf/lib" unwrapped bigstringaf
    c_stubs bigstringaf "$src/bigstringaf/lib/bigstringaf_stubs.c"
    constants >"$src/iomux/lib/config.ml" <<'EOF'
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
int main(void)
{
    printf("let pollin = 0x%x\nlet pollpri = 0x%x\nlet pollout = 0x%x\n", POLLIN, POLLPRI, POLLOUT);
    printf("let pollerr = 0x%x\nlet pollhup = 0x%x\nlet pollnval = 0x%x\n", POLLERR, POLLHUP, POLLNVAL);
    printf("let sizeof_pollfd = 0x%x\nlet has_ppoll = true\n", (unsigned)sizeof(struct pollfd));
    return 0;
}
EOF
    echo '#define HAS_PPOLL' >"$src/iomux/lib/config.h"
    library iomux "$src/iomux/lib" wrapped "iomux config poll util"
    c_stubs iomux "$src/iomux/lib/iomux_stubs.c" -I "$src/iomux/lib"
    library eio_runtime_events "$e/lib_eio/runtime_events" unwrapped eio_runtime_events
    library eio__core "$e/lib_eio/core" wrapped \
        "broadcast cancel cells debug eio__core exn fiber promise single_waiter suspend switch trace"
    library eio "$e/lib_eio" wrapped \
        "buf_read buf_write condition domain_manager eio eio_mutex executor_pool file flow fs hook lazy net path pool process resource sem_state semaphore std stream sync time waiters" \
        -open Eio__core -open Eio__core.Private
    library eio_utils "$e/lib_eio/utils" wrapped "dla eio_utils lf_queue nt_path posix_path suspended zzz"
    echo 'let enotcapable = None' >"$e/lib_eio/unix/config.ml"      # Linux has no ENOTCAPABLE
    library eio_unix "$e/lib_eio/unix" wrapped \
        "cap config eio_unix err fd fork_action inherit_fds net pi private process pty rcfd resource thread_pool types"
    local c
    for c in fork_action eio_unix_stubs cap pty; do
        c_stubs eio_unix "$e/lib_eio/unix/$c.c" -I "$e/lib_eio/unix/include" -I "$e/lib_eio/unix"
    done
    constants >"$e/lib_eio_posix/config.ml" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#define OPTIONAL(name, value) printf("let %s = Some 0x%x\n", name, (unsigned)(value))
#define NUMBER(name, value) printf("let %s = 0x%x\n", name, (unsigned)(value))
int main(void)
{
#ifdef O_DSYNC
    OPTIONAL("o_dsync", O_DSYNC);
#else
    printf("let o_dsync = None\n");
#endif
#ifdef O_RESOLVE_BENEATH
    OPTIONAL("o_resolve_beneath", O_RESOLVE_BENEATH);
#else
    printf("let o_resolve_beneath = None\n");
#endif
#ifdef O_PATH
    OPTIONAL("o_path", O_PATH);
#else
    printf("let o_path = None\n");
#endif
    NUMBER("o_rdonly", O_RDONLY); NUMBER("o_rdwr", O_RDWR); NUMBER("o_wronly", O_WRONLY);
    NUMBER("o_append", O_APPEND); NUMBER("o_cloexec", O_CLOEXEC); NUMBER("o_creat", O_CREAT);
    NUMBER("o_directory", O_DIRECTORY); NUMBER("o_excl", O_EXCL); NUMBER("o_noctty", O_NOCTTY);
    NUMBER("o_nofollow", O_NOFOLLOW); NUMBER("o_nonblock", O_NONBLOCK); NUMBER("o_sync", O_SYNC);
    NUMBER("o_trunc", O_TRUNC); NUMBER("at_fdcwd", AT_FDCWD);
    NUMBER("at_symlink_nofollow", AT_SYMLINK_NOFOLLOW); NUMBER("iov_max", IOV_MAX);
    return 0;
}
EOF
    library eio_posix "$e/lib_eio_posix" wrapped \
        "config domain_mgr eio_posix err flow fs low_level net path process sched time"
    c_stubs eio_posix "$e/lib_eio_posix/eio_posix_stubs.c" -D_LARGEFILE64_SOURCE \
        -I "$e/lib_eio/unix/include" -I "$e/lib_eio_posix"
}

build_picos() {
    local p=$src/picos/lib mm=$src/multicore-magic/src
    library backoff "$src/backoff/src" unwrapped backoff
    # OCaml 5.0 <= version < 5.4 selects the unboxed5 atomic array (a C stub)
    library multicore_magic_atomic_array "$mm/unboxed5" unwrapped multicore_magic_atomic_array
    c_stubs multicore_magic_atomic_array "$mm/unboxed5/multicore_magic_atomic_array.c"
    cp "$mm/multicore_magic.common.ml" "$mm/multicore_magic.ml"
    cp "$mm/Multicore_magic.mli" "$mm/multicore_magic.mli"
    cp "$mm/index.ocaml5.ml" "$mm/index.ml"
    cp "$mm/cache.8.ml" "$mm/cache.ml"
    library multicore_magic "$mm" wrapped "multicore_magic cache index padding transparent_atomic"
    cp "$p/picos/picos.ocaml5.ml" "$p/picos/picos.ml"
    cp "$p/picos/intf.ocaml5.ml" "$p/picos/intf.ml"
    library picos "$p/picos" wrapped "picos intf"
    library picos_aux_mpscq "$p/picos_aux.mpscq" unwrapped picos_aux_mpscq
    library picos_aux_htbl "$p/picos_aux.htbl" unwrapped picos_aux_htbl
    cp "$p/picos_mux.fifo/select.none.ml" "$p/picos_mux.fifo/select.ml"
    library picos_mux_fifo "$p/picos_mux.fifo" wrapped "picos_mux_fifo select"
    # picos_mux.multififo: picos.thread without thread-local-storage (its per-domain
    # variant, which the programs' single-threaded domains satisfy), no picos_io.select
    cp "$p/picos.domain/picos_domain.ocaml5.ml" "$p/picos.domain/picos_domain.ml"
    library picos_domain "$p/picos.domain" unwrapped picos_domain
    cp "$p/picos.thread/picos_thread.none.ml" "$p/picos.thread/picos_thread.ml"
    library picos_thread "$p/picos.thread" unwrapped picos_thread
    library picos_aux_mpmcq "$p/picos_aux.mpmcq" unwrapped picos_aux_mpmcq
    cp "$p/picos_mux.multififo/select.none.ml" "$p/picos_mux.multififo/select.ml"
    library picos_mux_multififo "$p/picos_mux.multififo" wrapped "picos_mux_multififo select"
    library picos_std_event "$p/picos_std.event" wrapped "picos_std_event event"
    library picos_std_finally "$p/picos_std.finally" unwrapped picos_std_finally
    library picos_std_awaitable "$p/picos_std.awaitable" unwrapped picos_std_awaitable
    library picos_std_structured "$p/picos_std.structured" wrapped \
        "picos_std_structured bundle control flock promise run"
    library picos_std_sync "$p/picos_std.sync" wrapped \
        "picos_std_sync barrier condition conditions intf ivar latch lazy list_ext lock locks mutex q rwlock sem semaphore stream"
}

# ---- link lines and programs ---------------------------------------------------------------

archives() { local n; for n in "$@"; do printf '%s ' "$lib/$n/$n.cmxa"; done; }
stubs() { local n; for n in "$@"; do printf '%s ' "$lib/$n"/stubs/*.o; done; }

eio_libs=(hmap lwt_dllist fmt optint psq mtime mtime_clock thread_table domain_local_await
          cstruct bigstringaf iomux eio_runtime_events eio__core eio eio_utils eio_unix eio_posix)
picos_libs=(backoff multicore_magic_atomic_array multicore_magic picos picos_aux_mpscq
            picos_aux_htbl picos_mux_fifo picos_domain picos_thread picos_aux_mpmcq
            picos_mux_multififo picos_std_event picos_std_finally
            picos_std_awaitable picos_std_structured picos_std_sync)

# program NAME SOURCES LINK-ARGUMENTS...: compiled from a private copy with eco_common.ml
# (SOURCES: one or more .ml files of this directory, space-separated, in link order)
program() {
    local name=$1 source
    local -a sources
    read -r -a sources <<<"$2"
    shift 2
    local dir=$out/programs/$name fresh=1
    [[ -x $out/$name && $out/$name -nt $programs/eco_common.ml && $out/$name -nt $out/.libraries ]] ||
        fresh=0
    for source in "${sources[@]}"; do
        [[ $out/$name -nt $programs/$source ]] || fresh=0
    done
    [[ $fresh == 1 ]] && return 0
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$programs/eco_common.ml" "${sources[@]/#/$programs/}" "$dir/"
    (cd "$dir" && ocamlopt -g -I "$dir" "$@" eco_common.ml "${sources[@]}" -o "$out/$name")
}

build_programs() {
    local common=(-I +unix -I +threads -I +runtime_events unix.cmxa threads.cmxa)
    local l eio_inc=() picos_inc=()
    for l in "${eio_libs[@]}"; do eio_inc+=(-I "$lib/$l"); done
    for l in "${picos_libs[@]}"; do picos_inc+=(-I "$lib/$l"); done
    # shellcheck disable=SC2046
    program eco_eio eco_eio.ml "${common[@]}" runtime_events.cmxa "${eio_inc[@]}" \
        $(archives "${eio_libs[@]}") $(stubs mtime_clock cstruct bigstringaf iomux eio_unix eio_posix)
    program eco_miou eco_miou.ml "${common[@]}" -I "$lib/miou" "$lib/miou/miou.cmxa"
    program eco_miou055 eco_miou.ml "${common[@]}" -I "$lib/miou055" "$lib/miou055/miou055.cmxa"
    # shellcheck disable=SC2046
    program eco_picos eco_picos.ml "${common[@]}" "${picos_inc[@]}" \
        $(archives "${picos_libs[@]}") $(stubs multicore_magic_atomic_array)
    # the same program with a unit Moonpool that re-exports Picos' yield as Moonpool 0.11 does
    # shellcheck disable=SC2046
    program eco_moonpool "moonpool.ml eco_picos.ml" "${common[@]}" "${picos_inc[@]}" \
        $(archives "${picos_libs[@]}") $(stubs multicore_magic_atomic_array)
}

# ---- main -------------------------------------------------------------------------------------

stamp_wanted=$( (sha256sum "$tarball" "${BASH_SOURCE[0]}" | cut -d' ' -f1; ocamlopt -version) | tr '\n' ' ')
started=$(date +%s.%N)
{
    if [[ ! -f $out/.libraries || $(cat "$out/.libraries") != "$stamp_wanted" ]]; then
        rm -rf "$src" "$lib" "$out/.libraries"
        mkdir -p "$src" "$lib"
        tar -xzf "$tarball" -C "$src"
        chmod -R u+w "$src"
        build_miou miou "$src/miou/lib"
        build_miou miou055 "$src/miou-0.5.5/lib"
        build_eio
        build_picos
        echo "$stamp_wanted" >"$out/.libraries"
        echo "libraries built"
    fi
    build_programs
} >"$log" 2>&1 || {
    echo "FAILED: building the schedulers or the ecosystem test programs; last lines of $log:"
    tail -n 20 "$log"
    exit 1
}
echo "built in $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s: $out"
