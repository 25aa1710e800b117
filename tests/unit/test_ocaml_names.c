/* Unit tests of ocaml_path_split: accepted OCaml paths and the symbols they map to, and
 * the malformed ones rejected. */
#include "check.h"
#include "ocaml_names.h"

static void expect_split(const char *path, const char *unit, const char *fn)
{
    char u[OCAML_SYMBOL_MAX] = "", f[OCAML_SYMBOL_MAX] = "";
    int rc = ocaml_path_split(path, u, sizeof u, f, sizeof f);
    if (rc != 0) {
        fprintf(stderr, "ocaml_path_split(\"%s\") failed\n", path);
        check_failures++;
        return;
    }
    CHECK_STR(u, unit);
    CHECK_STR(f, fn);
}

static void expect_reject(const char *path)
{
    char u[OCAML_SYMBOL_MAX], f[OCAML_SYMBOL_MAX];
    if (ocaml_path_split(path, u, sizeof u, f, sizeof f) != -1) {
        fprintf(stderr, "ocaml_path_split(\"%s\") accepted a malformed path\n", path);
        check_failures++;
    }
}

static void test_path_split(int argc, char **argv)
{
    expect_split("Sched.yield", "camlSched", "yield");
    expect_split("Eio.Fiber.yield", "camlEio__Fiber", "yield");
    expect_split("Dune__exe__Main.yield", "camlDune__exe__Main", "yield");
    expect_split("Miou.yield", "camlMiou", "yield");
    expect_split("A.B.C._f", "camlA__B__C", "_f");
    expect_split("M.yield'", "camlM", "yield'");                /* fn is returned unescaped */
    expect_split("M'.f", "camlM$27", "f");                      /* units are symbol-escaped */

    expect_reject("yield");
    expect_reject(".yield");
    expect_reject("Sched.");
    expect_reject("Sched..yield");
    expect_reject("sched.yield");                               /* module must be capitalised */
    expect_reject("Sched.Yield");                               /* a constructor, not a value */
    expect_reject("Sched.yi-eld");
    expect_reject("Sched.yield ");
    expect_reject("");
}

static void test_buffer_limits(int argc, char **argv)
{
    char u[8], f[4];
    CHECK_EQ(ocaml_path_split("Sched.yield", u, sizeof u, f, sizeof f), (uint64_t)-1);
    char u2[10], f2[6];                                        /* exactly enough */
    CHECK_EQ(ocaml_path_split("Sched.yield", u2, sizeof u2, f2, sizeof f2), 0);
    CHECK_STR(u2, "camlSched");
}

static void test_known_yields(int argc, char **argv)
{
    size_t n = 0;
    for (const char *const *k = ocaml_known_yields; *k != NULL; k++, n++) {
        char u[OCAML_SYMBOL_MAX], f[OCAML_SYMBOL_MAX];
        CHECK_EQ(ocaml_path_split(*k, u, sizeof u, f, sizeof f), 0);
    }
    CHECK(n >= 3);
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"path_split", test_path_split},
        {"buffer_limits", test_buffer_limits},
        {"known_yields", test_known_yields},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
