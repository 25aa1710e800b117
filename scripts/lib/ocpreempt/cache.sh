# shellcheck shell=bash disable=SC2034,SC2154  # globals shared between the parts: see each header
# ocpreempt launcher: `ocpreempt cache path | clear | --help`. Sourced by scripts/ocpreempt
# after common.sh.
# Owns: the analysis cache's folder as the shim decides it (shim/base/cache_store.c:
# OCPREEMPT_ANALYSIS_CACHE, else $XDG_CACHE_HOME/ocpreempt/analysis when absolute, else
# ~/.cache/ocpreempt/analysis) and emptying it.
# Invariants: `clear` removes only the shim's own files there (*.oac and the temporary
# *.oac.tmp.* of a write cut short), never the folder's other content or the folder; with
# OCPREEMPT_ANALYSIS_CACHE=off both subcommands say so on stderr and exit 1 (there is no
# folder, and `rm -r "$(ocpreempt cache path)"` must not be handed a word).

cache_help() {
    cat <<'EOF_HELP'
usage: ocpreempt cache path | clear | --help

The shim keeps the start-up analysis of each program it preempts (its safe points, the
yield, the runtime's layout) in a cache folder, so that a later start of the same program
with the same analysis settings skips the analysis (docs/design.md, "The analysis cache").
  path     print the folder: OCPREEMPT_ANALYSIS_CACHE, else
           $XDG_CACHE_HOME/ocpreempt/analysis, else ~/.cache/ocpreempt/analysis
  clear    remove the cache's files from that folder (the next start of each program
           analyses it again)
OCPREEMPT_ANALYSIS_CACHE=off turns the cache off: then both print one line and exit 1.
EOF_HELP
}

# The folder, on stdout; 1 when the cache is off (a line on stderr), 2 (dies) when the
# variable's value is not one the shim accepts.
cache_folder() {
    local value=${OCPREEMPT_ANALYSIS_CACHE-}
    if [[ -n $value ]]; then
        local library checkenv line
        library=$(find_library) || exit "$exit_launcher_error"
        checkenv=$(find_checkenv "$library") || exit "$exit_launcher_error"
        line=$("$checkenv" --value OCPREEMPT_ANALYSIS_CACHE "$value" 2>&1) ||
            die "${line#ocpreempt: }"
        if [[ $value == off ]]; then
            printf 'ocpreempt: the analysis cache is off (OCPREEMPT_ANALYSIS_CACHE=off)\n' >&2
            return 1
        fi
        printf '%s\n' "$value"
    elif [[ ${XDG_CACHE_HOME-} == /* ]]; then
        printf '%s/ocpreempt/analysis\n' "$XDG_CACHE_HOME"
    elif [[ ${HOME-} == /* ]]; then
        printf '%s/.cache/ocpreempt/analysis\n' "$HOME"
    else
        die "cache: no cache folder: HOME is not set (set OCPREEMPT_ANALYSIS_CACHE)"
    fi
}

cmd_cache() {
    local folder
    case ${1-} in
        path)
            (($# == 1)) || usage_error "cache path: unexpected argument $2"
            folder=$(cache_folder) || exit $?
            printf '%s\n' "$folder"
            ;;
        clear)
            (($# == 1)) || usage_error "cache clear: unexpected argument $2"
            folder=$(cache_folder) || exit $?
            local removed=0 file
            if [[ -d $folder ]]; then
                for file in "$folder"/*.oac "$folder"/*.oac.tmp.*; do
                    [[ -f $file && ! -L $file ]] || continue
                    rm -f -- "$file" || die "cache clear: cannot remove $file"
                    removed=$((removed + 1))
                done
            fi
            printf 'ocpreempt: removed %d cache file%s from %s\n' "$removed" >&2 \
                "$([[ $removed == 1 ]] || echo s)" "$folder"
            ;;
        -h | --help | help)
            cache_help
            ;;
        "")
            usage_error "cache: missing subcommand: path or clear"
            ;;
        *)
            usage_error "cache: unknown subcommand $1"
            ;;
    esac
}
