# shellcheck shell=bash disable=SC2034,SC2154  # globals shared between the parts: see each header
# ocpreempt launcher: `ocpreempt stress --junit FILE`, the runs of stress as a JUnit XML
# report, the format GitHub Actions reporters, GitLab and Jenkins display (docs/ci.md).
# Sourced by scripts/ocpreempt after stress.sh, whose state it reads (program, stress_dir,
# the seeds and shard, the last run's stress_run_micros and stress_preemptions).
# Owns: checking FILE; turning whatever a program printed into XML character data
# (junit_escape); one <testcase> per run, appended to a file as each run ends
# (junit_case_*); writing the report (junit_write).
# Invariants:
#  - FILE is only ever replaced whole: the report is written to a temporary file in FILE's
#    directory and renamed over it, so a reader sees no file or a complete report; an old
#    FILE is removed when the runs start, so a report is never one from an earlier stress;
#  - the report lists every run of this shard exactly once, in the order of the runs:
#    passed, failed (<failure> holding the failure report with its replay command), or
#    skipped with the reason it was not run (stress stops at the first failure; it was
#    interrupted); tests/failures/skipped count exactly the testcases written;
#  - the text is well-formed XML 1.0 whatever the program printed: bytes that are not
#    UTF-8 and characters XML 1.0 cannot hold (control characters other than tab, line
#    feed and carriage return; U+FFFE, U+FFFF) become U+FFFD.
# Layout written (junit-10.xsd of the Jenkins xUnit plugin, tests/launcher/junit-10.xsd):
#   <testsuites name tests failures errors time>
#     <testsuite name tests failures errors skipped time timestamp hostname>
#       <properties> program, seeds, shard, chaos rate, timeout </properties>
#       <testcase name="seed S" classname=PROGRAM'S FILE NAME time=SECONDS>
#         [<failure type message>REPORT</failure> | <skipped message/>]
#         <system-out>N chaos preemptions, the last lines of the run's output</system-out>

readonly junit_output_bytes=8192    # at most this much of a run's last lines per testcase

junit_file=""        # --junit FILE, absolute once checked
junit_cases=""       # the <testcase> elements so far (a file in stress_dir)
junit_temporary=""   # the report being written, until it is renamed to junit_file
junit_listed=0       # runs of this shard listed so far (the first junit_listed runs)
junit_failures=0
junit_skipped=0
junit_timestamp=""
junit_start_micros=0
junit_classname=""

# Reads bytes on stdin, prints them as XML 1.0 character data; with the argument
# "attribute", as a double-quoted attribute value (line ends and tabs kept as references,
# which attribute normalisation would otherwise turn into spaces). Perl because bash,
# sed and awk cannot tell well-formed UTF-8 from other bytes portably.
read -r -d '' junit_escape_program <<'PERL'
binmode STDIN;
binmode STDOUT;
my $text = do { local $/; <STDIN> } // "";
my %reference = ("&" => "&amp;", "<" => "&lt;", ">" => "&gt;", "\"" => "&quot;",
                 "\r" => "&#13;");
if (@ARGV && $ARGV[0] eq "attribute") {
    $reference{"\n"} = "&#10;";
    $reference{"\t"} = "&#9;";
}
# One alternative per kind of character: ASCII that XML allows; a well-formed UTF-8
# sequence (RFC 3629: shortest form, no surrogates, at most U+10FFFF) other than U+FFFE
# and U+FFFF; any other byte, which becomes U+FFFD.
$text =~ s{
    ([\t\n\r\x20-\x7F])
  | ( [\xC2-\xDF][\x80-\xBF]
    | \xE0[\xA0-\xBF][\x80-\xBF]
    | [\xE1-\xEC\xEE][\x80-\xBF]{2}
    | \xED[\x80-\x9F][\x80-\xBF]
    | \xEF[\x80-\xBE][\x80-\xBF]
    | \xEF\xBF[\x80-\xBD]
    | \xF0[\x90-\xBF][\x80-\xBF]{2}
    | [\xF1-\xF3][\x80-\xBF]{3}
    | \xF4[\x80-\x8F][\x80-\xBF]{2} )
  | (.)
}{ defined $1 ? ($reference{$1} // $1) : defined $2 ? $2 : "\xEF\xBF\xBD" }gsex;
print $text;
PERL
readonly junit_escape_program

junit_escape() {
    perl -e "$junit_escape_program" -- "$@"
}

# $1 as an attribute value.
junit_attribute() {
    printf '%s' "$1" | junit_escape attribute
}

# --junit FILE: absolute, a regular file we own or nothing yet, in an existing directory
# we can create the temporary file in (common.sh's rules, as for run's --trace).
junit_check_file() {
    type -P perl >/dev/null ||
        die "stress: --junit needs perl (it turns the program's output into valid XML)"
    junit_file=$(check_output_file "stress: --junit" "$junit_file" renamed) ||
        exit "$exit_launcher_error"
}

# Before the first run: no report from an earlier stress survives this one.
junit_begin() {
    local name=${program[0]##*/}
    rm -f -- "$junit_file" || die "stress: --junit $junit_file: cannot remove the old report"
    junit_cases=$stress_dir/junit-cases
    : >"$junit_cases" || die "stress: cannot write $junit_cases"
    junit_timestamp=$(date +%Y-%m-%dT%H:%M:%S%:z)
    junit_start_micros=$(now_micros)
    # JUnit viewers read dots in a class name as package separators.
    junit_classname=$(junit_attribute "${name//./_}")
}

# Microseconds as seconds with milliseconds: "12.345".
junit_seconds() {
    printf '%d.%03d\n' $(($1 / 1000000)) $(($1 % 1000000 / 1000))
}

# The <system-out> of a run: its preemptions and the last lines it printed (directory $2).
junit_system_out() {
    printf '      <system-out>'
    {
        printf '%d chaos preemptions\n' "$1"
        printf -- '--- last %d lines of its output ---\n' "$stress_tail_lines"
        tail -n "$stress_tail_lines" -- "$2/out" 2>/dev/null | tail -c "$junit_output_bytes"
    } | junit_escape
    printf '</system-out>\n'
}

# junit_case_passed SEED DIR: the run that just passed (stress_run_micros,
# stress_preemptions), its output in DIR.
junit_case_passed() {
    {
        printf '    <testcase name="seed %s" classname="%s" time="%s">\n' "$1" \
            "$junit_classname" "$(junit_seconds "$stress_run_micros")"
        junit_system_out "$stress_preemptions" "$2"
        printf '    </testcase>\n'
    } >>"$junit_cases"
    junit_listed=$((junit_listed + 1))
}

# junit_case_failed SEED MICROS PREEMPTIONS OUTCOME REPORT DIR: a failed run; the failure
# text is the failure report (file REPORT), replay command included.
junit_case_failed() {
    local type
    case $4 in
        killed\ by*) type=signal ;;
        timed\ out*) type=timeout ;;
        *) type="exit status" ;;
    esac
    {
        printf '    <testcase name="seed %s" classname="%s" time="%s">\n' "$1" \
            "$junit_classname" "$(junit_seconds "$2")"
        printf '      <failure type="%s" message="%s">' "$type" "$(junit_attribute "$4")"
        junit_escape <"$5"
        printf '</failure>\n'
        junit_system_out "$3" "$6"
        printf '    </testcase>\n'
    } >>"$junit_cases"
    junit_listed=$((junit_listed + 1))
    junit_failures=$((junit_failures + 1))
}

# junit_case_skipped SEED WHY: a run that did not complete.
junit_case_skipped() {
    printf '    <testcase name="seed %s" classname="%s" time="0.000">\n      <skipped message="%s"/>\n    </testcase>\n' \
        "$1" "$junit_classname" "$(junit_attribute "$2")" >>"$junit_cases"
    junit_listed=$((junit_listed + 1))
    junit_skipped=$((junit_skipped + 1))
}

junit_property() {
    printf '      <property name="%s" value="%s"/>\n' "$1" "$(junit_attribute "$2")"
}

# junit_write WHY: lists the runs not listed yet as skipped, because WHY, and writes the
# report. Status 1 (after one line on stderr) when it could not be written.
junit_write() {
    local why run seed suite time seeds command
    [[ -n $junit_cases ]] || return 0      # interrupted before the first run
    why=$(junit_attribute "$1")
    {
        for ((run = junit_listed + 1; run <= stress_shard_runs; run++)); do
            seed=$((stress_seed + stress_shard_index - 1 + (run - 1) * stress_shard_count))
            printf '    <testcase name="seed %s" classname="%s" time="0.000">\n      <skipped message="%s"/>\n    </testcase>\n' \
                "$seed" "$junit_classname" "$why"
        done
    } >>"$junit_cases"
    junit_skipped=$((junit_skipped + stress_shard_runs - junit_listed))
    junit_listed=$stress_shard_runs
    suite="ocpreempt stress ${program[0]##*/}"
    seeds="seeds $stress_seed..$((stress_seed + stress_runs - 1))"
    if ((stress_sharded)); then
        suite+=" (shard $stress_shard_index/$stress_shard_count)"
        seeds=$(shard_seeds_text)
    fi
    suite=$(junit_attribute "$suite")
    time=$(junit_seconds $(($(now_micros) - junit_start_micros)))
    printf -v command '%q ' "${program[@]}"
    junit_temporary=$(mktemp "${junit_file%/*}/.${junit_file##*/}.XXXXXX") || {
        printf 'ocpreempt: stress: cannot write the JUnit report %s\n' "$junit_file" >&2
        return 1
    }
    if ! {
        printf '<?xml version="1.0" encoding="UTF-8"?>\n'
        printf '<testsuites name="%s" tests="%d" failures="%d" errors="0" time="%s">\n' \
            "$suite" "$stress_shard_runs" "$junit_failures" "$time"
        printf '  <testsuite name="%s" tests="%d" failures="%d" errors="0" skipped="%d" time="%s" timestamp="%s" hostname="%s">\n' \
            "$suite" "$stress_shard_runs" "$junit_failures" "$junit_skipped" "$time" \
            "$junit_timestamp" "$(junit_attribute "${HOSTNAME:-$(uname -n)}")"
        printf '    <properties>\n'
        junit_property program "${command% }"
        junit_property seeds "$seeds"
        junit_property shard "$stress_shard_index/$stress_shard_count"
        junit_property chaos-rate "${stress_rate:-64 (default)}"
        junit_property timeout "$stress_timeout"
        printf '    </properties>\n'
        cat -- "$junit_cases"
        printf '  </testsuite>\n</testsuites>\n'
    } >"$junit_temporary" ||
       ! chmod "$(printf '%o' $((0666 & ~8#$(umask))))" -- "$junit_temporary" ||
       ! mv -f -- "$junit_temporary" "$junit_file"; then
        printf 'ocpreempt: stress: cannot write the JUnit report %s\n' "$junit_file" >&2
        junit_discard_temporary
        return 1
    fi
    junit_temporary=""
}

# A report left half-written (a second signal, a full disk) is removed on exit.
junit_discard_temporary() {
    [[ -n $junit_temporary ]] && rm -f -- "$junit_temporary"
    junit_temporary=""
}
