/* check: the few assertions the C unit tests need, and a named-subtest runner.
 *
 * Each test executable holds several subtests; CTest runs one per test name
 * (`test_x NAME`). Invariants: a failed check prints file:line and the values, and the
 * subtest goes on (so one run shows every failure); exit 0 pass, 1 fail, 77 skipped.
 */
#ifndef OCPREEMPT_TEST_CHECK_H
#define OCPREEMPT_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int check_failures;
static int check_skipped;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            check_failures++;                                                         \
        }                                                                             \
    } while (0)

#define CHECK_EQ(actual, expected)                                                    \
    do {                                                                              \
        uint64_t a_ = (uint64_t)(actual), e_ = (uint64_t)(expected);                  \
        if (a_ != e_) {                                                               \
            fprintf(stderr, "%s:%d: %s is %" PRIu64 " (0x%" PRIx64 "), expected %"    \
                    PRIu64 " (0x%" PRIx64 ")\n", __FILE__, __LINE__, #actual, a_, a_, \
                    e_, e_);                                                          \
            check_failures++;                                                         \
        }                                                                             \
    } while (0)

#define CHECK_STR(actual, expected)                                                   \
    do {                                                                              \
        const char *a_ = (actual), *e_ = (expected);                                  \
        if (strcmp(a_, e_) != 0) {                                                    \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__,      \
                    __LINE__, #actual, a_, e_);                                       \
            check_failures++;                                                         \
        }                                                                             \
    } while (0)

/* Marks the running subtest as skipped, with the reason on stdout (CTest shows it). */
#define SKIP(...)                                                                     \
    do {                                                                              \
        printf("SKIPPED: ");                                                          \
        printf(__VA_ARGS__);                                                          \
        printf("\n");                                                                 \
        check_skipped = 1;                                                            \
        return;                                                                       \
    } while (0)

/* The running test executable's own path (tests that read or doctor themselves). */
static inline const char *check_self_path(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return NULL;
    path[n] = '\0';
    return path;
}

struct subtest {
    const char *name;
    void (*run)(int argc, char **argv);   /* extra command-line arguments after NAME */
};

static inline int run_subtests(int argc, char **argv, const struct subtest *tests)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SUBTEST [ARGS...]\n", argv[0]);
        return 2;
    }
    for (const struct subtest *t = tests; t->name != NULL; t++) {
        if (strcmp(t->name, argv[1]) == 0) {
            t->run(argc - 2, argv + 2);
            if (check_skipped)
                return 77;
            printf("%s: %s\n", t->name, check_failures ? "FAILED" : "passed");
            return check_failures ? 1 : 0;
        }
    }
    fprintf(stderr, "%s: no subtest named %s\n", argv[0], argv[1]);
    return 2;
}

#endif
