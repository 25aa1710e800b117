/* Runs the shim's start-up analysis sequence (elf_image_open, ocaml_binary_identify,
 * runtime_layout_read, the symbol lookups the shim makes) on a large OCaml program: every
 * step must succeed, five times over (no state leaks between openings). The best and worst
 * durations are printed for the record only: time is a benchmark figure (scripts/bench,
 * start-up section), never a pass/fail criterion on a shared machine.
 *   test_startup_time sequence BINARY
 */
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "elf_image.h"
#include "ocaml_binary.h"
#include "runtime_layout.h"

#define RUNS 5

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static const char *const shim_symbols[] = {
    "caml_frametable", "caml_call_gc", "caml_alloc1", "caml_alloc2", "caml_alloc3",
    "caml_allocN", "caml_state", "caml_start_program", "caml_runstack", NULL};

/* One start-up sequence; returns its duration in ms, or -1 on failure. */
static double one_sequence(const char *path)
{
    double start = now_ms();
    struct analysis_error err = {{0}};
    struct elf_image *img;
    if (elf_image_open(path, &img, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    struct ocaml_binary_info info;
    struct runtime_layout layout;
    int ok = ocaml_binary_identify(img, &info, &err) == 0 &&
             runtime_layout_read(img, &info, &layout, &err) == 0;
    for (const char *const *s = shim_symbols; ok && *s; s++) {
        struct elf_symbol sym;
        ok = elf_image_symbol(img, *s, &sym) == 0;
        if (!ok)
            fprintf(stderr, "symbol %s not found\n", *s);
    }
    elf_image_close(img);
    if (!ok) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return now_ms() - start;
}

static void test_sequence(int argc, char **argv)
{
    if (argc < 1 || access(argv[0], R_OK) != 0)
        SKIP("%s not found (run scripts/setup-ocaml.sh)", argc ? argv[0] : "BINARY");
    double best = 1e9, worst = 0;
    for (int i = 0; i < RUNS; i++) {
        double ms = one_sequence(argv[0]);
        CHECK(ms >= 0);
        if (ms < 0)
            return;
        best = ms < best ? ms : best;
        worst = ms > worst ? ms : worst;
    }
    printf("start-up analysis of %s: best %.1f ms, worst %.1f ms (not checked: see "
           "scripts/bench --only startup)\n", argv[0], best, worst);
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"sequence", test_sequence},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
