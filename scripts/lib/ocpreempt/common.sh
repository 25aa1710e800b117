# shellcheck shell=bash disable=SC2034,SC2154  # globals shared between the parts: see each header
# ocpreempt launcher: what every subcommand shares. Sourced by scripts/ocpreempt (which
# sets self_dir, the exit statuses and launcher_version), never run by itself.
# Owns:
#  - the one error convention: die prints one line "ocpreempt: ..." on stderr and exits 2;
#    usage_error adds the hint "(try 'ocpreempt --help')";
#  - the rules for a file the launcher has written (check_output_file);
#  - finding the pieces the launcher starts, relative to the launcher's real location
#    (the layouts are listed at the top of scripts/ocpreempt): libocpreempt.so,
#    ocpreempt-checkenv, ocpreempt-probe.
# Invariants: a find_* function prints one absolute path and returns 0, or dies with the
# places it looked in (in the caller's command substitution, hence the callers'
# `|| exit "$exit_launcher_error"`); a missing piece is never guessed at.

die() {
    printf 'ocpreempt: %s\n' "$*" >&2
    exit "$exit_launcher_error"
}

usage_error() {
    die "$* (try 'ocpreempt --help')"
}

# ---- files the launcher writes ------------------------------------------------------

# check_output_file WHAT PATH HOW: prints PATH absolute when the user may have it written:
# not a symbolic link, a regular file they own or nothing yet, in an existing directory,
# writable as HOW needs: "in-place" (the file, or its directory if it does not exist yet)
# or "renamed" (the directory: the file is written beside PATH and renamed over it).
# Otherwise dies with one line "WHAT PATH ...", WHAT naming the option ("run: --trace").
check_output_file() {
    local what=$1 path directory
    path=$(absolute_path "$2")
    directory=${path%/*}
    [[ -n $directory ]] || directory=/
    if [[ -L $path ]]; then
        die "$what $path is a symbolic link; give the real path"
    elif [[ -e $path && ! -f $path ]]; then
        die "$what $path is not a regular file"
    elif [[ -f $path && ! -O $path ]]; then
        die "$what $path belongs to another user; ocpreempt only writes files you own"
    elif [[ ! -d $directory ]]; then
        die "$what $path: directory $directory does not exist"
    elif [[ $3 == in-place ]] &&
         { [[ -f $path && ! -w $path ]] || [[ ! -e $path && ! -w $directory ]]; }; then
        die "$what $path: permission denied"
    elif [[ $3 == renamed && ! -w $directory ]]; then
        die "$what $path: permission denied (it is written beside, then renamed)"
    fi
    printf '%s\n' "$path"
}

# ---- locating the pieces ------------------------------------------------------------

# Absolute and without "." or "..", but with symlinks kept: LD_PRELOAD and messages show
# the names the user gave (or the layout has), not where links point.
absolute_path() {
    realpath -s -m -- "$1"
}

# Prints the first existing regular file among the arguments, absolute; status 1 if none.
first_file() {
    local candidate
    for candidate in "$@"; do
        if [[ -f $candidate ]]; then
            absolute_path "$candidate"
            return 0
        fi
    done
    return 1
}

# True when -h or --help comes before `--` (the program's own arguments are its business).
help_asked() {
    local argument
    for argument in "$@"; do
        [[ $argument == -- ]] && return 1
        [[ $argument == -h || $argument == --help ]] && return 0
    done
    return 1
}

find_library() {
    local candidates=("$self_dir/../lib/libocpreempt.so" "$self_dir/../lib64/libocpreempt.so")
    local multiarch
    if [[ -n ${OCPREEMPT_LIB-} ]]; then
        [[ -f $OCPREEMPT_LIB ]] || die "OCPREEMPT_LIB=$OCPREEMPT_LIB: no such file"
        absolute_path "$OCPREEMPT_LIB"
        return 0
    fi
    for multiarch in "$self_dir"/../lib/*-linux-gnu*/libocpreempt.so; do
        candidates+=("$multiarch")
    done
    candidates+=("$self_dir/../build/shim/libocpreempt.so")
    if ! first_file "${candidates[@]}"; then
        die "libocpreempt.so not found (looked in $(absolute_path "$self_dir/../lib") and" \
            "$(absolute_path "$self_dir/../build/shim")); build it with 'cmake --build build'" \
            "or set OCPREEMPT_LIB=/path/to/libocpreempt.so"
    fi
}

find_checkenv() {
    local lib_dir=${1%/*}
    first_file "$lib_dir/ocpreempt-checkenv" \
               "$self_dir/../libexec/ocpreempt/ocpreempt-checkenv" \
               "$self_dir/../build/shim/ocpreempt-checkenv" ||
        die "ocpreempt-checkenv not found (looked next to $1, in" \
            "$(absolute_path "$self_dir/../libexec/ocpreempt") and in" \
            "$(absolute_path "$self_dir/../build/shim"))"
}

find_probe() {
    local candidates=("$self_dir/ocpreempt-probe" "$self_dir/../build/probe/ocpreempt-probe")
    [[ -n ${OCPREEMPT_LIB-} ]] && candidates+=("${OCPREEMPT_LIB%/*}/../probe/ocpreempt-probe")
    first_file "${candidates[@]}" && return 0
    type -P ocpreempt-probe && return 0
    die "ocpreempt-probe not found (looked in $self_dir," \
        "$(absolute_path "$self_dir/../build/probe") and PATH)"
}
