# shellcheck shell=bash disable=SC2034,SC2154  # globals shared between the parts: see each header
# ocpreempt launcher: `ocpreempt run [OPTIONS] -- PROGRAM [ARGS...]`. Sourced by
# scripts/ocpreempt after common.sh.
# Owns: run's options and the OCPREEMPT_* variables they set (`chosen`, `chosen_by`, each
# value checked by the shim's own parser, ocpreempt-checkenv); the --trace/--stats files
# (prepare_output_file); the environment's configuration as a whole (check_environment,
# strict or not); the checks on PROGRAM (found and executable, statically linked or not,
# and in strict mode supported by the probe); LD_PRELOAD; the final exec.
# Invariants: every check happens before PROGRAM starts; PROGRAM replaces the shell
# (exec), so its status and signals are the caller's; the environment changes only by
# OCPREEMPT_* variables and one LD_PRELOAD entry appended.
# Also used by stress.sh: parse_run_options (in a subshell: stress's run options are
# judged by run's own parser) and check_program.

declare -A chosen=()      # OCPREEMPT_* variable -> value, from command-line options
declare -A chosen_by=()   # OCPREEMPT_* variable -> the option that set it (for messages)
checkenv=""

variable_of_option() {
    case $1 in
        --quantum) echo OCPREEMPT_QUANTUM ;;
        --yield)   echo OCPREEMPT_YIELD ;;
        --stats)   echo OCPREEMPT_STATS ;;
        --trace)   echo OCPREEMPT_TRACE ;;
        --trace-format) echo OCPREEMPT_TRACE_FORMAT ;;
        --deny)    echo OCPREEMPT_DENY ;;
        --critical) echo OCPREEMPT_CRITICAL ;;
        --sites)   echo OCPREEMPT_SITES ;;
        --chaos)   echo OCPREEMPT_CHAOS ;;
        --chaos-rate) echo OCPREEMPT_CHAOS_RATE ;;
        --log)     echo OCPREEMPT_LOG ;;
        --assume-runtime) echo OCPREEMPT_ASSUME_RUNTIME ;;
        *)         return 1 ;;
    esac
}

# What an option's value is called in a usage message.
option_value_name() {
    case $1 in
        --trace) echo FILE ;;
        --trace-format) echo "format (text or chrome)" ;;
        *)       echo value ;;
    esac
}

# Checks one option value with the shim's parser and records it. Always strict.
set_option() {
    local option=$1 value=$2 variable message
    variable=$(variable_of_option "$option") || usage_error "run: unknown option $option"
    [[ -n $value ]] || usage_error "run: $option needs a $(option_value_name "$option")"
    if ! message=$("$checkenv" --value "$variable" "$value" 2>&1); then
        die "run: $option: ${message#ocpreempt: }"
    fi
    chosen[$variable]=$value
    chosen_by[$variable]=$option
}

# A --trace/--stats file: absolute, a regular file we own or nothing yet, in an existing
# writable directory. Emptied here so that each run starts a fresh file; the shim itself
# only appends (O_APPEND|O_NOFOLLOW, see docs/launcher.md).
prepare_output_file() {
    local variable=$1 option=${chosen_by[$1]} path
    path=$(check_output_file "run: $option" "${chosen[$variable]}" in-place) ||
        exit "$exit_launcher_error"
    if [[ -f $path ]] && ! : >| "$path"; then
        die "run: $option $path: cannot empty the file"
    fi
    chosen[$variable]=$path
}

# Parses run's options into `chosen`; sets `strict`, `json`; leaves the program and its
# arguments in the global array `program`.
strict=0
json=0
program=()
parse_run_options() {
    local saw_separator=0
    while (($#)); do
        case $1 in
            --)
                saw_separator=1
                shift
                break
                ;;
            --request | --request=* | --signal | --signal=*)
                usage_error "run: ${1%%=*} was removed with signal mode: the monitor is" \
                    "the only request path and sends no signal; drop the option"
                ;;
            --quantum | --yield | --trace | --trace-format | --deny | --critical | --sites | \
            --log | --chaos | --chaos-rate | --assume-runtime)
                # `--trace -- prog`: the option took "--" as its value; name what is missing.
                if (($# < 2)) || [[ $2 == -- ]]; then
                    usage_error "run: $1 needs a $(option_value_name "$1")"
                fi
                set_option "$1" "$2"
                shift 2
                ;;
            --quantum=* | --yield=* | --trace=* | --trace-format=* | --deny=* | --critical=* | \
            --sites=* | --log=* | --chaos=* | --chaos-rate=* | --assume-runtime=*)
                set_option "${1%%=*}" "${1#*=}"
                shift
                ;;
            --stats)
                set_option --stats 1
                shift
                ;;
            --stats=*)
                [[ -n ${1#*=} ]] || usage_error "run: --stats= needs a file"
                set_option --stats "${1#*=}"
                shift
                ;;
            --json)
                json=1
                shift
                ;;
            --strict)
                strict=1
                shift
                ;;
            -h | --help)
                print_help
                exit 0
                ;;
            -*)
                usage_error "run: unknown option $1"
                ;;
            *)
                usage_error "run: missing -- before the program ($1)"
                ;;
        esac
    done
    ((saw_separator)) || usage_error "run: missing -- PROGRAM"
    (($#)) || usage_error "run: missing PROGRAM after --"
    program=("$@")
}

# --json asks for JSON statistics; statistics that are off are turned on (to stderr).
apply_json() {
    ((json)) || return 0
    chosen[OCPREEMPT_STATS_FORMAT]=json
    chosen_by[OCPREEMPT_STATS_FORMAT]=--json
    if [[ -z ${chosen[OCPREEMPT_STATS]-} ]] &&
       [[ -z ${OCPREEMPT_STATS-} || ${OCPREEMPT_STATS-} == 0 ]]; then
        chosen[OCPREEMPT_STATS]=1
        chosen_by[OCPREEMPT_STATS]=--json
    fi
}

export_chosen() {
    local variable
    for variable in "${!chosen[@]}"; do
        export "$variable=${chosen[$variable]}"
    done
}

# The environment's configuration as a whole, judged by the shim's parser. Prints
# nothing and returns 0 when valid; otherwise returns 1 after printing the line (unless
# non-strict and quiet), or exits 2 in strict mode.
check_environment() {
    local message status
    message=$("$checkenv" 2>&1 >/dev/null)
    status=$?
    ((status == 0)) && return 0
    if ((status != 2)); then
        message=${message%%$'\n'*}
        die "ocpreempt-checkenv failed (status $status): ${message#ocpreempt: }"
    fi
    # OCPREEMPT_STRICT with a bad value still shows the intent to be strict.
    if ((strict)) || [[ -n ${OCPREEMPT_STRICT-} && $OCPREEMPT_STRICT != 0 ]]; then
        printf '%s\n' "$message" >&2
        exit "$exit_launcher_error"
    fi
    [[ ${OCPREEMPT_LOG-} == quiet ]] || printf '%s\n' "$message" >&2
    return 1
}

# Appends $1 to LD_PRELOAD unless it is already one of its entries.
add_preload() {
    local library=$1 entry entries
    if [[ $library == *[[:space:]:]* ]]; then
        die "the library path '$library' contains a space or a colon, which LD_PRELOAD" \
            "cannot express; move it or set OCPREEMPT_LIB to a path without them"
    fi
    local kept=0
    IFS=$' \t:' read -r -a entries <<<"${LD_PRELOAD-}"
    for entry in "${entries[@]}"; do
        [[ -z $entry ]] && continue   # "a::b" has an empty field; ld.so skips it too
        [[ $entry == "$library" ]] && return 0
        kept=1
    done
    if ((kept)); then
        export LD_PRELOAD="$LD_PRELOAD:$library"
    else
        export LD_PRELOAD=$library
    fi
}

# Mirrors the shell's own messages and statuses, but on one "ocpreempt:" line.
check_program() {
    local name=$1
    if [[ $name != */* ]] && ! type -P -- "$name" >/dev/null; then
        # `run -- .`: a directory here is the likelier mistake than a missing command.
        if [[ -d $name ]]; then
            printf 'ocpreempt: run: %s is a directory, not a program\n' "$name" >&2
            exit "$exit_not_executable"
        fi
        printf 'ocpreempt: run: %s: command not found\n' "$name" >&2
        exit "$exit_not_found"
    elif [[ $name != */* ]]; then
        return 0
    elif [[ ! -e $name ]]; then
        printf 'ocpreempt: run: %s: no such file\n' "$name" >&2
        exit "$exit_not_found"
    elif [[ -d $name ]]; then
        printf 'ocpreempt: run: %s is a directory, not a program\n' "$name" >&2
        exit "$exit_not_executable"
    elif [[ ! -x $name ]]; then
        printf 'ocpreempt: run: %s: not an executable file\n' "$name" >&2
        exit "$exit_not_executable"
    fi
}

# Is $1 a statically linked ELF executable (no PT_INTERP: the dynamic loader, which is
# what honours LD_PRELOAD, never runs)? Reads the ELF header and program headers with od.
is_static_elf() {
    local file=$1 magic class phoff phentsize phnum types type
    [[ -f $file && -r $file ]] || return 1
    magic=$(od -An -tx1 -N4 -- "$file" 2>/dev/null) || return 1
    [[ ${magic// /} == 7f454c46 ]] || return 1
    class=$(od -An -tu1 -j4 -N1 -- "$file") || return 1
    ((class == 2)) || return 1                      # 64-bit only, like the shim
    phoff=$(od -An -tu8 -j32 -N8 -- "$file") || return 1
    phentsize=$(od -An -tu2 -j54 -N2 -- "$file") || return 1
    phnum=$(od -An -tu2 -j56 -N2 -- "$file") || return 1
    ((phnum > 0 && phentsize >= 4)) || return 1
    types=$(od -An -tu4 -w"$phentsize" -j"$phoff" -N$((phnum * phentsize)) -v -- "$file") ||
        return 1
    while read -r type _; do
        [[ $type == 3 ]] && return 1                # PT_INTERP: dynamically linked
    done <<<"$types"
    return 0
}

# A statically linked program ignores LD_PRELOAD: say so on one line (strict: refuse).
check_not_static() {
    local path=${program[0]}
    [[ $path == */* ]] || path=$(type -P -- "$path")
    is_static_elf "$path" || return 0
    if [[ ${OCPREEMPT_STRICT-0} != 0 ]]; then
        printf 'ocpreempt: %s is statically linked: LD_PRELOAD cannot load the shim into it; strict mode, not starting it\n' \
            "${program[0]}" >&2
        exit "$exit_launcher_error"
    fi
    printf 'ocpreempt: %s is statically linked: LD_PRELOAD cannot load the shim into it, so it runs without preemption\n' \
        "${program[0]}" >&2
}

# Strict mode only: the probe's verdict on the program (never runs it). An unsupported
# program would run unpreempted, which strict mode forbids: exit 2 with the reasons. So
# would a critical section the user named that the program does not contain.
check_program_supported() {
    local probe path verdict status report entry
    probe=$(find_probe) || exit "$exit_launcher_error"
    path=${program[0]}
    [[ $path == */* ]] || path=$(type -P -- "$path")
    report=$("$probe" ${OCPREEMPT_YIELD:+--yield "$OCPREEMPT_YIELD"} "$path" 2>&1)
    status=$?
    if ((status != 0)); then
        verdict=${report##*$'\n'}
        printf 'ocpreempt: %s cannot be preempted (%s); strict mode, not starting it\n' \
            "${program[0]}" "${verdict#verdict: }" >&2
        exit "$exit_launcher_error"
    fi
    # The program can be preempted, but a critical section the user named is not in it:
    # it would run unprotected (the probe lists it as "NAME: not in this program").
    entry=$(sed -n 's/^ *\(critical extents:\)\{0,1\} *\([^ ]*\): not in this program (OCPREEMPT_CRITICAL)$/\2/p' \
                <<<"$report" | head -n 1)
    [[ -z $entry ]] && return 0
    printf 'ocpreempt: %s: OCPREEMPT_CRITICAL entry %s is not in this program; strict mode, not starting it\n' \
        "${program[0]}" "$entry" >&2
    exit "$exit_launcher_error"
}

cmd_run() {
    local library variable
    # --help works even where the library is missing: that is when it is needed most.
    help_asked "$@" && { print_help; exit 0; }
    library=$(find_library) || exit "$exit_launcher_error"
    checkenv=$(find_checkenv "$library") || exit "$exit_launcher_error"
    parse_run_options "$@"
    apply_json
    for variable in OCPREEMPT_TRACE OCPREEMPT_STATS; do
        if [[ -n ${chosen[$variable]-} && ${chosen[$variable]} != [01] ]]; then
            prepare_output_file "$variable"
        fi
    done
    ((strict)) && chosen[OCPREEMPT_STRICT]=1
    export_chosen
    check_program "${program[0]}"
    check_not_static
    if [[ ${OCPREEMPT_STRICT-0} != 0 ]]; then
        check_environment
        check_program_supported
    fi
    if check_environment; then
        add_preload "$library"
        # exec keeps our pid: the shim in the program itself (not in its children) then
        # says why when it finds nothing to preempt (docs/launcher.md).
        export OCPREEMPT_LAUNCHED=$$
        if [[ ${OCPREEMPT_LOG-} == debug ]]; then
            printf 'ocpreempt: launcher: LD_PRELOAD=%s\n' "$LD_PRELOAD" >&2
        fi
    fi
    exec -- "${program[@]}"
}
