# shellcheck shell=bash disable=SC2034,SC2154  # globals shared between the parts: see each header
# ocpreempt launcher: `ocpreempt probe PROGRAM [PROBE ARGS...]`. Sourced by
# scripts/ocpreempt after common.sh.
# Owns: handing over to ocpreempt-probe (found by common.sh's find_probe) with the
# arguments unchanged; exec, so the probe's output and exit status are the caller's.

cmd_probe() {
    local probe
    (($#)) || usage_error "probe: missing PROGRAM"
    probe=$(find_probe) || exit "$exit_launcher_error"
    exec -- "$probe" "$@"
}
