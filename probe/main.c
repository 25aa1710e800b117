/* ocpreempt-probe: command line, and the mapping of the verdict to the exit status.
 *
 * Invariants: exit 0 supported, 1 unsupported, 2 could not analyse or wrong usage; in the
 * exit-2 cases exactly one line goes to stderr; the probe never runs PROGRAM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_report.h"

static const char usage_text[] =
    "usage: ocpreempt-probe PROGRAM [--json] [--yield Module.fn] [--assume-runtime 5.3]\n"
    "       ocpreempt-probe --help | --version\n"
    "\n"
    "Reads PROGRAM's ELF file (never runs it) and reports whether ocpreempt can make its\n"
    "OCaml 5 fibers preemptive: OCaml kind and version, runtime variant, frame pointers,\n"
    "PIE, runtime struct layout (from DWARF, or a built-in table when stripped), a census\n"
    "of the frame tables (poll and allocation sites and whether their code has the shape\n"
    "the injector needs), and the yield function to call.\n"
    "\n"
    "  --json              print the same facts as JSON (keys: docs/probe.md)\n"
    "  --yield Module.fn   resolve this yield function (e.g. Eio.Fiber.yield,\n"
    "                      Dune__exe__Main.yield); without it, list well-known\n"
    "                      schedulers' yields and toplevel `yield` functions found\n"
    "  --assume-runtime S  judge as the shim does with OCPREEMPT_ASSUME_RUNTIME=S: a\n"
    "                      release without a runtime profile on profile S (e.g. 5.3)\n"
    "  --help              this text\n"
    "  --version           the probe's version\n"
    "\n"
    "Exit status:\n"
    "  0  supported\n"
    "  1  unsupported (the last line, or \"reasons\" in JSON, says why)\n"
    "  2  could not analyse (unreadable, not ELF, truncated, corrupt) or wrong usage\n";

struct options {
    const char *program;
    const char *yield;
    bool json;
};

static int usage_error(const char *fmt, const char *arg)
{
    fputs("ocpreempt-probe: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see ocpreempt-probe --help)\n", stderr);
    return PROBE_ERROR;
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("ocpreempt-probe %s\n", OCPREEMPT_VERSION);
            return 0;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--yield") == 0) {
            if (i + 1 >= argc)
                return usage_error("%s needs an argument, e.g. --yield Eio.Fiber.yield", a);
            o->yield = argv[++i];
        } else if (strncmp(a, "--yield=", 8) == 0) {
            o->yield = a + 8;
        } else if (strcmp(a, "--assume-runtime") == 0) {
            /* The shim's variable: the verdict is the one the shim reaches with it set. */
            if (i + 1 >= argc)
                return usage_error("%s needs a release series, e.g. --assume-runtime 5.3", a);
            setenv("OCPREEMPT_ASSUME_RUNTIME", argv[++i], 1);
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (o->program != NULL) {
            return usage_error("more than one PROGRAM given ('%s')", a);
        } else {
            o->program = a;
        }
    }
    if (o->program == NULL)
        return usage_error("%s", "no PROGRAM given");
    return -1;
}

int main(int argc, char **argv)
{
    struct options o;
    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;
    struct probe_report *r = malloc(sizeof *r);    /* large: keep it off the stack */
    if (r == NULL) {
        fputs("ocpreempt-probe: out of memory\n", stderr);
        return PROBE_ERROR;
    }
    probe_analyse(o.program, o.yield, r);
    if (r->status == PROBE_ERROR)
        fprintf(stderr, "ocpreempt-probe: %s\n", r->error);
    if (o.json)
        report_json(r);
    else if (r->status != PROBE_ERROR)
        report_text(r);
    status = (int)r->status;
    free(r);
    return status;
}
