/* ocpreempt-checkenv: the launcher's (and the user's) view of the shim's configuration.
 *
 * It runs the very config_load() the shim runs, so the launcher can refuse a bad value
 * before starting a program (strict mode) and can check each command-line option value.
 * Invariants:
 *  - exit 0: valid; exit 2: a bad value or a bad argument, after exactly one line on
 *    stderr; exit 1: stdout could not be written (for --print/--list);
 *  - the error line is the shim's own line with the shim's "ocpreempt: " prefix, printed
 *    whatever OCPREEMPT_LOG says: whoever runs checkenv asked for the verdict;
 *  - nothing is written to stdout unless asked (--print, --list, --help).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#define EXIT_VALID 0
#define EXIT_OUTPUT_FAILED 1
#define EXIT_INVALID 2

static const char usage_text[] =
    "usage: ocpreempt-checkenv [--print | --list | --analysis-inputs | --value NAME VALUE |\n"
    "                           --help]\n"
    "\n"
    "Checks the OCPREEMPT_* variables of the current environment exactly as\n"
    "libocpreempt.so will when it is loaded.\n"
    "\n"
    "  (no option)        check; print nothing when the configuration is valid\n"
    "  --print            check, then print the effective configuration, one\n"
    "                     NAME=VALUE line per variable, in a form it accepts back\n"
    "  --list             print every variable: NAME<TAB>DEFAULT<TAB>ACCEPTED<TAB>SUMMARY\n"
    "  --analysis-inputs  print the variables the start-up analysis reads, one a line:\n"
    "                     the ones in the analysis cache's key\n"
    "  --value NAME VALUE check one value as if it were the only variable set\n"
    "  --help             this text\n"
    "\n"
    "Exit status: 0 valid, 2 invalid value or bad argument (one line on stderr),\n"
    "1 output could not be written.\n";

static int report_invalid(const char *line)
{
    fprintf(stderr, "ocpreempt: %s\n", line);
    return EXIT_INVALID;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "ocpreempt-checkenv: %s%s; try ocpreempt-checkenv --help\n", what, arg);
    return EXIT_INVALID;
}

/* Maps the state of stdout after printing to the exit status. */
static int finish_output(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ocpreempt-checkenv: cannot write to standard output\n");
        return EXIT_OUTPUT_FAILED;
    }
    return EXIT_VALID;
}

/* The variables in the analysis cache's key (config.h: analysis_free), for its tests. */
static int list_analysis_inputs(void)
{
    for (size_t i = 0; i < config_option_count(); i++)
        if (!config_option_doc(i)->analysis_free)
            printf("%s\n", config_option_doc(i)->name);
    return finish_output();
}

static int print_configuration(const struct ocpreempt_config *cfg)
{
    /* The deny list is the longest value: 64 entries of up to 63 bytes plus commas. */
    char value[CONFIG_DENY_MAX * CONFIG_DENY_ENTRY_MAX + PATH_MAX];
    for (size_t i = 0; i < config_option_count(); i++) {
        const char *name = config_option_doc(i)->name;
        if (config_format_option(cfg, i, value, sizeof value) != 0) {
            fprintf(stderr, "ocpreempt-checkenv: %s does not fit in the output buffer\n",
                    name);
            return EXIT_OUTPUT_FAILED;
        }
        printf("%s=%s\n", name, value);
    }
    return finish_output();
}

static int list_variables(void)
{
    for (size_t i = 0; i < config_option_count(); i++) {
        const struct config_option_doc *doc = config_option_doc(i);
        printf("%s\t%s\t%s\t%s\n", doc->name, doc->default_text, doc->accepted,
               doc->summary);
    }
    return finish_output();
}

static int check_environment(bool print)
{
    static struct ocpreempt_config cfg;   /* static: ~13 KiB, no need to be on the stack */
    char err[CONFIG_ERR_MAX];
    if (config_load(&cfg, err, sizeof err) != 0)
        return report_invalid(err);
    return print ? print_configuration(&cfg) : EXIT_VALID;
}

static int check_one_value(const char *name, const char *value)
{
    char err[CONFIG_ERR_MAX];
    if (config_check_value(name, value, err, sizeof err) != 0)
        return report_invalid(err);
    return EXIT_VALID;
}

int main(int argc, char **argv)
{
    if (argc == 1)
        return check_environment(false);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        return finish_output();
    }
    if (strcmp(argv[1], "--value") == 0) {
        if (argc != 4)
            return usage_error("--value needs NAME and VALUE", "");
        return check_one_value(argv[2], argv[3]);
    }
    if (argc > 2)
        return usage_error("unexpected argument ", argv[2]);
    if (strcmp(argv[1], "--print") == 0)
        return check_environment(true);
    if (strcmp(argv[1], "--list") == 0)
        return list_variables();
    if (strcmp(argv[1], "--analysis-inputs") == 0)
        return list_analysis_inputs();
    return usage_error("unknown argument ", argv[1]);
}
