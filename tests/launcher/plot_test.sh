#!/usr/bin/env bash
# plot_test: scripts/ocpreempt-plot, one case per CTest test (plot_<case>): a PNG from the
# sample trace (tests/launcher/sample-trace.tsv, the format of docs/trace.md), and one
# clear line for each kind of bad input, with no output file left behind.
source "${BASH_SOURCE[0]%/*}/testlib.sh"

plot=$T_SOURCE_DIR/scripts/ocpreempt-plot
sample=$T_SOURCE_DIR/tests/launcher/sample-trace.tsv

# expect_png FILE: PNG signature, an IHDR chunk, and more than a trivial size.
expect_png() {
    [[ -f $1 ]] || fail "$1 was not written"
    expect_eq "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" "89504e470d0a1a0a" "PNG signature of $1"
    expect_eq "$(head -c 16 "$1" | tail -c 4)" "IHDR" "PNG header chunk of $1"
    (($(stat -c %s "$1") > 1000)) || fail "$1 is suspiciously small"
}

command -v "${GNUPLOT:-gnuplot}" >/dev/null || [[ ${1-} == gnuplot_missing ]] ||
    skip "gnuplot is not installed"

case_sample_png() {
    run_cmd "$plot" "$sample" -o "$work/out.png"
    expect_eq "$status" 0 "status (stderr: $err)"
    expect_eq "$out" "$work/out.png" "prints the file it wrote"
    expect_png "$work/out.png"
    expect_eq "$(ls "$work")" "out.png"$'\n'"stderr"$'\n'"stdout" "no temporary files left here"
}

case_default_output() {
    cp "$sample" run.tsv
    run_cmd "$plot" run.tsv
    expect_eq "$status" 0 "status (stderr: $err)"
    expect_eq "$out" "run.png" ".tsv replaced by .png"
    expect_png run.png
    cp "$sample" run
    run_cmd "$plot" run
    expect_eq "$out" "run.png" "no extension: .png appended"
    run_cmd "$plot" run.tsv -o run.tsv
    expect_error 2 "ocpreempt-plot: the output would overwrite the trace (usage: ocpreempt-plot TRACE [-o OUT.png])" "-o TRACE"
}

# Thread ids instead of small domain numbers, one kind only, repeated headers (several
# processes appending to one file), comments and a site with spaces and a hex address.
case_trace_variants() {
    {
        printf '# ocpreempt-trace v1 pid=100\n'
        printf '1000000\t41001\tpoll\t12000\tcamlMain.loop_273+0x1a\n'
        printf '# a comment\n'
        printf '2000000\t41007\tpoll\t0\tMain.loop main.ml:12\n'
        printf '# ocpreempt-trace v1\n'
        printf '3000000\t41001\tpoll\t900000\t0x55d4c2a1b3f0\n'
    } >variants.tsv
    run_cmd "$plot" variants.tsv -o variants.png
    expect_eq "$status" 0 "status (stderr: $err)"
    expect_png variants.png
}

# expect_refused TRACE_TEXT EXPECTED_LINE WHAT
expect_refused() {
    printf '%b' "$1" >bad.tsv
    run_cmd "$plot" bad.tsv -o bad.png
    expect_error 1 "$2" "$3"
    expect_no_file bad.png "$3: no image"
}

case_malformed_trace() {
    local header='# ocpreempt-trace v1\n'
    expect_refused "${header}1\t0\tpoll\t5000\n" \
        "ocpreempt-plot: bad.tsv:2: expected 5 tab-separated fields (time_ns domain kind latency_ns site), got 4" \
        "missing field"
    expect_refused "${header}1\t0\tpoll\t5000\tf a.ml:1\n1 0 poll 5000 f\n" \
        "ocpreempt-plot: bad.tsv:3: expected 5 tab-separated fields (time_ns domain kind latency_ns site), got 1" \
        "spaces instead of tabs"
    expect_refused "${header}1\t0\tpreempt\t5000\tf\n" \
        "ocpreempt-plot: bad.tsv:2: kind \"preempt\" is neither poll nor alloc" "bad kind"
    expect_refused "${header}1\t0\tpoll\t-5\tf\n" \
        "ocpreempt-plot: bad.tsv:2: latency_ns \"-5\" is not a non-negative integer" "bad latency"
    expect_refused "${header}1.5\t0\tpoll\t5\tf\n" \
        "ocpreempt-plot: bad.tsv:2: time_ns \"1.5\" is not a non-negative integer" "bad time"
    expect_refused "${header}1\tD0\tpoll\t5\tf\n" \
        "ocpreempt-plot: bad.tsv:2: domain \"D0\" is not a non-negative integer" "bad domain"
    expect_refused "${header}1\t0\tpoll\t5\t\n" \
        "ocpreempt-plot: bad.tsv:2: empty site" "empty site"
    expect_refused "1\t0\tpoll\t5\tf\n" \
        "ocpreempt-plot: bad.tsv:1: not an ocpreempt trace: the first line must be \"# ocpreempt-trace v1\" or \"v2\"" \
        "no header"
    expect_refused "# ocpreempt-trace v3\n1\t0\tpoll\t5\tf\n" \
        "ocpreempt-plot: bad.tsv:1: not an ocpreempt trace: the first line must be \"# ocpreempt-trace v1\" or \"v2\"" \
        "another version"
    # v2 adds a sixth field (the nearest frame of the program's own code): v1's five no longer do
    expect_refused "# ocpreempt-trace v2\n1\t0\tpoll\t5\tf\n" \
        "ocpreempt-plot: bad.tsv:2: expected 6 tab-separated fields (time_ns domain kind latency_ns site user_frame), got 5" \
        "v2 with five fields"
}

case_empty_trace() {
    : >empty.tsv
    run_cmd "$plot" empty.tsv
    expect_error 1 "ocpreempt-plot: empty.tsv: empty file (was the program run with OCPREEMPT_TRACE?)" "empty file"
    expect_refused '# ocpreempt-trace v1\n' \
        "ocpreempt-plot: bad.tsv: no preemptions recorded (only the header)" "header only"
}

case_missing_trace() {
    run_cmd "$plot" nope.tsv
    expect_error 1 "ocpreempt-plot: nope.tsv: no such file" "missing file"
    mkdir adir
    run_cmd "$plot" adir
    expect_error 1 "ocpreempt-plot: adir: not a readable file" "a directory"
}

case_gnuplot_missing() {
    GNUPLOT=/nonexistent/gnuplot run_cmd "$plot" "$sample" -o out.png
    expect_error 1 "ocpreempt-plot: gnuplot not found (/nonexistent/gnuplot); install it (Debian: apt-get install gnuplot-nox) or set GNUPLOT=/path/to/gnuplot" "no gnuplot"
    expect_no_file out.png "no image"
}

case_gnuplot_fails() {
    printf '#!/bin/sh\necho "plot.gp, line 1: broken" >&2\nexit 1\n' >fake-gnuplot
    chmod +x fake-gnuplot
    GNUPLOT=$work/fake-gnuplot run_cmd "$plot" "$sample" -o out.png
    expect_error 1 "ocpreempt-plot: gnuplot failed: plot.gp, line 1: broken" "gnuplot error"
    expect_no_file out.png "no image"
}

case_arguments() {
    run_cmd "$plot"
    expect_error 2 "ocpreempt-plot: missing TRACE (usage: ocpreempt-plot TRACE [-o OUT.png])" "no trace"
    run_cmd "$plot" --frobnicate x.tsv
    expect_error 2 "ocpreempt-plot: unknown option --frobnicate (usage: ocpreempt-plot TRACE [-o OUT.png])" "unknown option"
    run_cmd "$plot" a.tsv b.tsv
    expect_error 2 "ocpreempt-plot: one trace at a time (b.tsv) (usage: ocpreempt-plot TRACE [-o OUT.png])" "two traces"
    run_cmd "$plot" a.tsv -o
    expect_error 2 "ocpreempt-plot: -o needs a file (usage: ocpreempt-plot TRACE [-o OUT.png])" "-o without file"
    run_cmd "$plot" --help
    expect_eq "$status" 0 "--help"
    expect_contains "$out" "usage: ocpreempt-plot TRACE [-o OUT.png]" "--help text"
}

run_case "$@"
