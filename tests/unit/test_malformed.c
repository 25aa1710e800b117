/* Unit tests of the analysis readers on crafted and doctored inputs (issue 9 items 3, 9):
 * each subtest feeds a value a file controls -- a relocation at 2^64 - 7, Stdlib__Sys
 * data bounds near 2^64, an implausible layout, a return address outside the code,
 * debuginfo offsets leading out of the image -- and
 * checks the reader refuses it or ignores it instead of crashing or looping. Readers that
 * could hang run in a forked child under alarm(), so the old code fails here with "hung"
 * rather than stalling the suite.
 *   test_malformed SUBTEST [OCAML_5_3_EXECUTABLE]
 */
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "debuginfo.h"
#include "elf_image.h"
#include "elf_mutate.h"
#include "ocaml_binary.h"
#include "runtime_layout.h"
#include "site_shape.h"

#define BOUND_SECONDS 10

__attribute__((used, noinline)) int malformed_code_marker(int x)
{
    return x * 5 + 3;
}
__attribute__((used)) const char malformed_data_marker[] = "data, not code";

/* Runs body(arg) in a child bounded by BOUND_SECONDS; 0 it returned 0, else a failure
 * (crash, hang, or non-zero) is counted with `what`. */
static void bounded(int (*body)(const char *), const char *arg, const char *what)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(BOUND_SECONDS);
        _exit(body(arg) == 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "%s: %s (signal %d)\n", what,
                WTERMSIG(status) == SIGALRM ? "hung" : "crashed", WTERMSIG(status));
        check_failures++;
    } else if (WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: wrong result\n", what);
        check_failures++;
    }
}

/* A copy of src with 8 bytes at `offset` set to value; NULL on failure. */
static char *doctored(const char *src, long offset, uint64_t value, long offset2, uint64_t value2)
{
    static char path[64];
    struct blob b;
    if (offset < 0 || blob_load(src, &b) != 0)
        return NULL;
    strcpy(path, "/tmp/ocpreempt-malformed-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    close(fd);
    int rc = blob_put(&b, offset, value, 8);
    if (offset2 >= 0)
        rc |= blob_put(&b, offset2, value2, 8);
    rc |= blob_save(&b, b.size, path);
    blob_free(&b);
    return rc == 0 ? path : NULL;
}

/* ---- item 3: relocations whose r_offset wraps ------------------------------------------ */

static int open_and_read(const char *path)
{
    struct elf_image *img;
    struct analysis_error err;
    if (elf_image_open(path, &img, &err) != 0)
        return 1;
    struct elf_symbol sym;
    uint64_t word = 0;
    int rc = elf_image_symbol(img, "malformed_data_marker", &sym) == 0 &&
                     elf_image_read(img, sym.value, &word, sizeof word) == 0
                 ? 0 : 1;
    elf_image_close(img);
    return rc;
}

static void test_wrapped_relocation(int argc, char **argv)
{
    size_t total = 0;
    long at = mutate_relative_reloc(check_self_path(), 0, &total);
    if (at < 0)
        SKIP("this test executable has no RELATIVE relocation (not a PIE?)");
    /* 2^64 - 7 is issue 9's rc 139; the others wrap `vaddr + 8` by other amounts. */
    static const uint64_t wrapped[] = {0xFFFFFFFFFFFFFFF9ull, 0xFFFFFFFFFFFFFFF8ull,
                                       0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFCull};
    for (size_t i = 0; i < sizeof wrapped / sizeof wrapped[0]; i++) {
        /* the addend too, so the in-file word differs and the reader keeps the entry */
        char *copy = doctored(check_self_path(), at, wrapped[i], at + 16, 0x1234);
        CHECK(copy != NULL);
        if (copy == NULL)
            continue;
        char what[64];
        snprintf(what, sizeof what, "open with r_offset 0x%llx", (unsigned long long)wrapped[i]);
        bounded(open_and_read, copy, what);
        unlink(copy);
    }
}

/* The range predicates never wrap and tell code from data. */
static void test_range_predicates(int argc, char **argv)
{
    struct elf_image *img;
    struct analysis_error err;
    CHECK_EQ(elf_image_open(check_self_path(), &img, &err), 0);
    if (img == NULL)
        return;
    struct elf_symbol fn, data;
    CHECK_EQ(elf_image_symbol(img, "malformed_code_marker", &fn), 0);
    CHECK_EQ(elf_image_symbol(img, "malformed_data_marker", &data), 0);
    CHECK(elf_image_in_code(img, fn.value, fn.size));
    CHECK(!elf_image_in_code(img, data.value, 8));
    CHECK(elf_image_in_segment(img, data.value, 8));
    CHECK(!elf_image_in_code(img, fn.value, UINT64_MAX));
    CHECK(!elf_image_in_code(img, UINT64_MAX - 3, 8));
    CHECK(!elf_image_in_segment(img, UINT64_MAX - 3, 8));
    CHECK(!elf_image_in_segment(img, data.value, UINT64_MAX - data.value + 1));
    CHECK(elf_image_code(img, UINT64_MAX - 3, 8) == NULL);
    /* the shared rule for safe points: code yes, data no, wrapping never */
    struct site_targets t = {0};
    enum site_shape shape;
    CHECK_EQ(site_shape_in_image(img, fn.value + 5, &t, &shape), 0);
    CHECK_EQ(site_shape_in_image(img, data.value + 5, &t, &shape), (uint64_t)-1);
    CHECK_EQ(site_shape_in_image(img, 3, &t, &shape), (uint64_t)-1);
    CHECK_EQ(site_shape_in_image(img, UINT64_MAX - 2, &t, &shape), (uint64_t)-1);
    elf_image_close(img);
}

/* ---- item 9: debuginfo offsets are checked against the image ------------------------ */

/* A frame descriptor's debug slot, its two info words and a fully packed name record
 * (runtime/backtrace_nat.c), laid out in this executable's data. */
struct fake_debuginfo {
    uint32_t slot, pad;                 /* slot: offset from itself to info1 */
    uint32_t info1, info2;              /* info1: record offset; info2: line << 19 */
    int32_t filename_offs;              /* the record: file name offset, then name */
    char name[12];
    char file[12];
};
__attribute__((used, aligned(8))) struct fake_debuginfo malformed_debuginfo = {
    .slot = offsetof(struct fake_debuginfo, info1) - offsetof(struct fake_debuginfo, slot),
    .info1 = offsetof(struct fake_debuginfo, filename_offs) - offsetof(struct fake_debuginfo, info1),
    .info2 = 42u << 19,
    .filename_offs = offsetof(struct fake_debuginfo, file) -
                     offsetof(struct fake_debuginfo, filename_offs),
    .name = "Fake.fn",
    .file = "fake.ml",
};

static void test_debuginfo_checked(int argc, char **argv)
{
    struct elf_image *img;
    struct analysis_error err;
    CHECK_EQ(elf_image_open(check_self_path(), &img, &err), 0);
    if (img == NULL)
        return;
    struct elf_symbol sym;
    CHECK_EQ(elf_image_symbol(img, "malformed_debuginfo", &sym), 0);
    uintptr_t bias = (uintptr_t)&malformed_debuginfo - sym.value;
    struct fake_debuginfo *d = &malformed_debuginfo;
    const struct fake_debuginfo sound = *d;
    struct source_location loc;
    CHECK_EQ(debuginfo_decode_in_image(&d->slot, bias, img, &loc), 0);
    CHECK_EQ(loc.line, 42);
    CHECK_STR(loc.file, "fake.ml");
    CHECK_STR(loc.function, "Fake.fn");
    d->slot = 0x7ffffff0u;                        /* info words far outside the image */
    CHECK_EQ(debuginfo_decode_in_image(&d->slot, bias, img, &loc), (uint64_t)-1);
    *d = sound;
    d->info1 = 0x3fffffcu;                        /* record 64 MiB away */
    CHECK_EQ(debuginfo_decode_in_image(&d->slot, bias, img, &loc), (uint64_t)-1);
    *d = sound;
    d->filename_offs = -0x40000000;               /* file name 1 GiB before the record */
    CHECK_EQ(debuginfo_decode_in_image(&d->slot, bias, img, &loc), (uint64_t)-1);
    *d = sound;
    CHECK_EQ(debuginfo_decode_in_image((const uint32_t *)8, bias, img, &loc), (uint64_t)-1);
    elf_image_close(img);
}

/* ---- item 3: Stdlib__Sys data bounds from the file ------------------------------------- */

static int identify_unknown_version(const char *path)
{
    struct elf_image *img;
    struct analysis_error err;
    if (elf_image_open(path, &img, &err) != 0)
        return 1;
    struct ocaml_binary_info info;
    int rc = ocaml_binary_identify(img, &info, &err);
    elf_image_close(img);
    return rc == 0 && info.kind == OCAML_NATIVE_5 && info.version[0] == '\0' ? 0 : 1;
}

static void test_version_scan_bounded(int argc, char **argv)
{
    if (argc < 1 || access(argv[0], R_OK) != 0)
        SKIP("no OCaml 5.3 executable given or built");
    const char *subject = argv[0];
    long begin = mutate_symbol_field(subject, "camlStdlib__Sys.data_begin", 0);
    long end = mutate_symbol_field(subject, "camlStdlib__Sys.data_end", 0);
    CHECK(begin >= 0 && end >= 0);
    /* begin past the image, end far away: a scan to it would take ~2^61 steps */
    char *far = doctored(subject, begin, mutate_image_end(subject), end, 0xFFFFFFFFFFFFFFF0ull);
    CHECK(far != NULL);
    if (far) {
        bounded(identify_unknown_version, far, "Sys data_end near 2^64");
        unlink(far);
    }
    /* both near the top: `at + 16` wraps, and a scan would restart at address 0 and read
       far outside the declared range */
    char *top = doctored(subject, begin, 0xFFFFFFFFFFFFFFF0ull, end, 0xFFFFFFFFFFFFFFF8ull);
    CHECK(top != NULL);
    if (top) {
        bounded(identify_unknown_version, top, "Sys data at 2^64 - 16");
        unlink(top);
    }
}

/* ---- item 9: layout plausibility ------------------------------------------------------ */

static void expect_refused(const struct runtime_layout *l, const char *version, const char *needle)
{
    struct analysis_error err = {{0}};
    if (runtime_layout_check(l, version, &err) == 0) {
        fprintf(stderr, "layout accepted, expected a refusal mentioning '%s'\n", needle);
        check_failures++;
    } else if (strstr(err.msg, needle) == NULL || strchr(err.msg, '\n') != NULL) {
        fprintf(stderr, "refusal '%s' does not mention '%s' on one line\n", err.msg, needle);
        check_failures++;
    }
}

static void test_layout_plausibility(int argc, char **argv)
{
    const struct runtime_layout *b53 = runtime_layout_builtin("5.3.0");
    const struct runtime_layout *b51 = runtime_layout_builtin("5.1.0");
    struct analysis_error err;
    CHECK(b53 != NULL && b51 != NULL);
    if (b53 == NULL || b51 == NULL)
        return;
    CHECK_EQ(runtime_layout_check(b53, "5.3.0", &err), 0);
    CHECK_EQ(runtime_layout_check(b51, "5.1.0", &err), 0);

    struct runtime_layout l = *b53;
    l.source = LAYOUT_FROM_DWARF;
    CHECK_EQ(runtime_layout_check(&l, "5.3.0", &err), 0);
    CHECK_EQ(runtime_layout_check(&l, "5.3.9", &err), 0);     /* no table: structure only */

    l.domain_state.current_stack = 48;                          /* issue 9: over exn_handler */
    expect_refused(&l, "5.3.9", "current_stack and caml_domain_state.exn_handler are both at offset 48");
    l = *b53, l.source = LAYOUT_FROM_DWARF;
    l.domain_state.requested_external_interrupt = 260;          /* misaligned */
    expect_refused(&l, "5.3.9", "requested_external_interrupt at offset 260 is not an aligned word");
    l.domain_state.requested_external_interrupt = 992;          /* == sizeof: past the end */
    expect_refused(&l, "5.3.9", "inside the 992-byte struct");
    l.domain_state.requested_external_interrupt = (size_t)-8;  /* wraps off + 8 */
    expect_refused(&l, "5.3.9", "requested_external_interrupt at offset");
    l.domain_state.requested_external_interrupt = 264;          /* issue 9: plausible alone */
    CHECK_EQ(runtime_layout_check(&l, "5.3.9", &err), 0);
    expect_refused(&l, "5.3.0", "DWARF puts caml_domain_state.requested_external_interrupt at 264, OCaml 5.3.0 has it at 256");
    expect_refused(&l, "5.3.0+fp", "OCaml 5.3.0 has it at 256");
    l = *b53, l.source = LAYOUT_FROM_DWARF;
    l.stack_info.size = 4;                                      /* struct smaller than a word */
    expect_refused(&l, "5.3.9", "stack_info.sp at offset 0");
    l = *b51, l.source = LAYOUT_FROM_DWARF;
    l.c_stack_link.prev = l.c_stack_link.sp;
    expect_refused(&l, "5.1.0", "c_stack_link.sp and c_stack_link.prev are both at offset 8");
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"wrapped_relocation", test_wrapped_relocation},
        {"range_predicates", test_range_predicates},
        {"version_scan_bounded", test_version_scan_bounded},
        {"layout_plausibility", test_layout_plausibility},
        {"debuginfo_checked", test_debuginfo_checked},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
