/* Unit test: each runtime profile against the DWARF and the code of a binary built by its
 * release (analysis/runtime/runtime_profile.h), and the one version rule.
 *   test_runtime_profile matches BINARY VERSION SERIES OTHER
 *       BINARY (built by OCaml VERSION) passes every check of profile SERIES, DWARF
 *       included; and the twin: against profile OTHER it fails, naming the frame-table
 *       ABI and the layout (so the checks can fail);
 *   test_runtime_profile assumed BINARY VERSION
 *       a release without a profile is refused with the opt-in named, and accepted on
 *       the 5.3 profile with OCPREEMPT_ASSUME_RUNTIME=5.3;
 *   test_runtime_profile patch_release BINARY STRIPPED
 *       "5.3.1" selects the 5.3 profile as a patch release; BINARY's DWARF agrees, a
 *       stripped binary cannot (no DWARF): refused;
 *   test_runtime_profile select      the rule on version strings alone.
 */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "elf_image.h"
#include "ocaml_binary.h"
#include "runtime_profile.h"

static struct elf_image *open_built_by(const char *path, const char *version)
{
    struct analysis_error err = {{0}};
    struct elf_image *img = NULL;
    if (elf_image_open(path, &img, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    struct ocaml_binary_info info;
    CHECK_EQ(ocaml_binary_identify(img, &info, &err), 0);
    CHECK_STR(info.version, version);
    return img;
}

static bool failures_mention(const struct profile_check_result *r, const char *what)
{
    for (size_t i = 0; i < r->failed && i < PROFILE_CHECK_MAX; i++)
        if (strstr(r->failures[i], what) != NULL)
            return true;
    return false;
}

static void print_failures(const char *series, const struct profile_check_result *r)
{
    for (size_t i = 0; i < r->failed && i < PROFILE_CHECK_MAX; i++)
        fprintf(stderr, "  %s profile: %s\n", series, r->failures[i]);
}

static void test_matches(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: matches BINARY VERSION SERIES OTHER\n");
        check_failures++;
        return;
    }
    if (access(argv[0], R_OK) != 0)
        SKIP("%s not found: OCaml %s not built here (scripts/setup-ocaml.sh %s)", argv[0],
             argv[1], argv[1]);
    struct elf_image *img = open_built_by(argv[0], argv[1]);
    CHECK(img != NULL);
    if (img == NULL)
        return;
    const struct runtime_profile *p = runtime_profile_named(argv[2]);
    const struct runtime_profile *other = runtime_profile_named(argv[3]);
    CHECK(p != NULL && other != NULL);
    if (p == NULL || other == NULL)
        return;
    static struct profile_check_result r;
    CHECK_EQ(runtime_profile_check(img, p, true, &r), 0);
    print_failures(argv[2], &r);
    CHECK(r.dwarf);
    /* symbols, two prologues, layout, two frame-table ABI types */
    CHECK_EQ(r.passed, 6);
    CHECK_EQ(r.failed, 0);
    CHECK_EQ(runtime_profile_check(img, other, true, &r), -1);
    CHECK(failures_mention(&r, "frame-table ABI: caml_get_frame_descrs' result"));
    CHECK(failures_mention(&r, "frame-table ABI: caml_find_frame_descr's first parameter"));
    CHECK(failures_mention(&r, "layout: caml_domain_state.requested_external_interrupt"));
    elf_image_close(img);
}

static void test_assumed(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: assumed BINARY VERSION\n");
        check_failures++;
        return;
    }
    if (access(argv[0], R_OK) != 0)
        SKIP("%s not found: OCaml %s not built here (scripts/setup-ocaml.sh %s)", argv[0],
             argv[1], "5.4.0-dev-2024-10-24");
    struct elf_image *img = open_built_by(argv[0], argv[1]);
    CHECK(img != NULL);
    if (img == NULL)
        return;
    struct ocaml_binary_info info;
    struct analysis_error err = {{0}};
    CHECK_EQ(ocaml_binary_identify(img, &info, &err), 0);
    struct profile_choice c;
    char why[512] = "";
    CHECK_EQ(runtime_profile_select(&info, NULL, &c, why, sizeof why), 1);
    CHECK(strstr(why, "has no runtime profile (supported: OCaml 5.2, 5.3)") != NULL);
    CHECK(strstr(why, "OCPREEMPT_ASSUME_RUNTIME=5.3") != NULL);
    CHECK(strstr(why, "--assume-runtime 5.3") != NULL);
    CHECK_EQ(runtime_profile_select(&info, "5.3", &c, why, sizeof why), 0);
    CHECK_EQ(c.match, PROFILE_ASSUMED);
    CHECK_STR(c.profile->series, "5.3");
    static struct profile_check_result r;
    CHECK_EQ(runtime_profile_check(img, c.profile, true, &r), 0);
    print_failures("5.3", &r);
    CHECK_EQ(runtime_profile_nearest(&info), c.profile);
    elf_image_close(img);
}

static void test_patch_release(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: patch_release BINARY STRIPPED\n");
        check_failures++;
        return;
    }
    if (access(argv[0], R_OK) != 0 || access(argv[1], R_OK) != 0)
        SKIP("%s or %s not built", argv[0], argv[1]);
    struct ocaml_binary_info info = {.kind = OCAML_NATIVE_5, .version = "5.3.1"};
    struct profile_choice c;
    char why[512] = "";
    CHECK_EQ(runtime_profile_select(&info, NULL, &c, why, sizeof why), 0);
    CHECK_EQ(c.match, PROFILE_PATCH_RELEASE);
    CHECK_STR(c.profile->series, "5.3");
    static struct profile_check_result r;
    struct elf_image *img = open_built_by(argv[0], "5.3.0");
    struct elf_image *stripped = open_built_by(argv[1], "5.3.0");
    CHECK(img != NULL && stripped != NULL);
    if (img == NULL || stripped == NULL)
        return;
    CHECK_EQ(runtime_profile_check(img, c.profile, true, &r), 0);      /* DWARF agrees */
    print_failures("5.3", &r);
    CHECK_EQ(runtime_profile_check(stripped, c.profile, true, &r), -1); /* cannot agree */
    CHECK(failures_mention(&r, "DWARF: the binary has none"));
    /* the release itself needs no DWARF: its built-in table is what DWARF said */
    CHECK_EQ(runtime_profile_check(stripped, c.profile, false, &r), 0);
    elf_image_close(img);
    elf_image_close(stripped);
}

static int pick(const char *version, const char *assume, struct profile_choice *c, char *why)
{
    struct ocaml_binary_info info = {.kind = OCAML_NATIVE_5};
    snprintf(info.version, sizeof info.version, "%s", version);
    return runtime_profile_select(&info, assume, c, why, 512);
}

static void test_select(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct profile_choice c;
    char why[512];
    CHECK_EQ(pick("5.3.0", NULL, &c, why), 0);
    CHECK_EQ(c.match, PROFILE_EXACT);
    CHECK_STR(c.profile->series, "5.3");
    CHECK_EQ(c.profile->frame_descrs, FRAME_DESCRS_BY_POINTER);
    CHECK_EQ(pick("5.3.0+fp", NULL, &c, why), 0);
    CHECK_EQ(c.match, PROFILE_EXACT);
    CHECK_EQ(pick("5.2.0", NULL, &c, why), 0);
    CHECK_EQ(c.match, PROFILE_EXACT);
    CHECK_EQ(c.profile->frame_descrs, FRAME_DESCRS_BY_VALUE);
    CHECK_EQ(c.profile->registration, REGISTER_TABLE_ARRAY);
    CHECK(!c.profile->memprof_sampling);
    CHECK_EQ(pick("5.2.1", NULL, &c, why), 0);
    CHECK_EQ(c.match, PROFILE_PATCH_RELEASE);
    /* 5.1: refused with its reason, whatever the opt-in says */
    CHECK_EQ(pick("5.1.0", NULL, &c, why), 1);
    CHECK(strstr(why, "OCaml 5.1.x is not supported: its runtime calls the interrupt hook") != NULL);
    CHECK_EQ(pick("5.1.0", "5.3", &c, why), 1);
    CHECK(runtime_profile_named("5.1") == NULL);
    /* no profile: refused; the opt-in names a profile; a wrong one is refused */
    CHECK_EQ(pick("5.5.0", NULL, &c, why), 1);
    CHECK_EQ(pick("5.4.0+dev0-2024-08-25", "5.3", &c, why), 0);
    CHECK_EQ(c.match, PROFILE_ASSUMED);
    CHECK_EQ(pick("5.4.0", "5.9", &c, why), 1);
    CHECK(strstr(why, "OCPREEMPT_ASSUME_RUNTIME=5.9 names none") != NULL);
    CHECK_EQ(pick("", NULL, &c, why), 1);
    CHECK(strstr(why, "unknown version") != NULL);
    struct ocaml_binary_info newer = {.kind = OCAML_NATIVE_5, .version = "5.5.0"};
    CHECK_STR(runtime_profile_nearest(&newer)->series, "5.3");
    struct ocaml_binary_info older = {.kind = OCAML_NATIVE_5, .version = "5.0.0"};
    CHECK_STR(runtime_profile_nearest(&older)->series, "5.2");
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"matches", test_matches},
        {"assumed", test_assumed},
        {"patch_release", test_patch_release},
        {"select", test_select},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
