/* fuzz_target: the readers one fuzz input goes through (see fuzz_target.h). */
#include "fuzz_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "probe_report.h"
#include "runtime_symbols.h"
#include "source_lines.h"

/* Paths the shim may be told to call (OCPREEMPT_YIELD) and ones it finds itself. */
static const char *const requested_yields[] = {NULL, "Sched.yield", "Sched_demo.yield",
                                               "Eio.Fiber.yield"};

/* The shim's start-up readers beyond the probe's: the placement rule, a layout read
 * whatever the version, symbol-to-line lookups through libdw. */
static void shim_readers(const struct elf_image *img)
{
    struct analysis_error err;
    struct ocaml_binary_info info;
    struct runtime_layout layout;
    runtime_symbols_check(img, &err);
    if (ocaml_binary_identify(img, &info, &err) == 0)
        runtime_layout_read(img, &info, &layout, &err);
    struct source_lines *lines = source_lines_open(img);
    static const char *const named[] = {"caml_call_gc", "caml_start_program", "caml_main"};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        struct elf_symbol sym;
        char where[128];
        if (elf_image_symbol(img, named[i], &sym) == 0) {
            source_lines_at(lines, sym.value, where, sizeof where);
            elf_image_symbol_at(img, sym.value + sym.size / 2, &sym);
        }
    }
    source_lines_close(lines);
}

void fuzz_analyse_file(const char *path)
{
    struct probe_report *r = malloc(sizeof *r);
    if (r == NULL)
        return;
    for (size_t i = 0; i < sizeof requested_yields / sizeof requested_yields[0]; i++) {
        probe_analyse(path, requested_yields[i], r);
        if (i == 0) {
            report_text(r);
            report_json(r);
        }
    }
    free(r);
    struct elf_image *img;
    struct analysis_error err;
    if (elf_image_open(path, &img, &err) == 0) {
        shim_readers(img);
        elf_image_close(img);
    }
}

/* An error line: non-empty when it should be, one line, NUL-terminated in its buffer. */
static int one_line(const char *what, const char *msg, size_t cap)
{
    size_t len = strnlen(msg, cap);
    if (len == cap || strchr(msg, '\n') != NULL) {
        fprintf(stderr, "fuzz: %s: error message is not one bounded line: %.300s\n", what, msg);
        return -1;
    }
    return 0;
}

extern char **environ;

int fuzz_config_contract(char **env, size_t count)
{
    char **saved = environ;
    char *list[count + 1];
    memcpy(list, env, count * sizeof *env);
    list[count] = NULL;
    environ = list;
    struct ocpreempt_config cfg;
    char err[CONFIG_ERR_MAX];
    err[0] = '\0';
    int rc = config_load(&cfg, err, sizeof err);
    environ = saved;
    int bad = 0;
    if (rc != 0 && (err[0] == '\0' || cfg.enabled || one_line("config_load", err, sizeof err))) {
        fprintf(stderr, "fuzz: config_load rejected without a line or left enabled: %.300s\n",
                err);
        bad = -1;
    }
    for (size_t i = 0; i < count; i++) {
        const char *eq = strchr(env[i], '=');
        if (eq == NULL || (size_t)(eq - env[i]) >= 128)
            continue;
        char name[128];
        memcpy(name, env[i], (size_t)(eq - env[i]));
        name[eq - env[i]] = '\0';
        char one[CONFIG_ERR_MAX];
        one[0] = '\0';
        if (config_check_value(name, eq + 1, one, sizeof one) != 0 &&
            (one[0] == '\0' || one_line("config_check_value", one, sizeof one)))
            bad = -1;
    }
    return bad;
}
