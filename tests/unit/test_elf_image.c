/* Unit tests of elf_image on this test executable itself (a PIE built by GNU ld) and on
 * doctored copies of it: relocated reads, the lld-style "zero in the file" case, symbol
 * lookups, and rejection of truncated or non-ELF files.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "elf_image.h"

/* A pointer in data: in a PIE it carries an R_X86_64_RELATIVE relocation. */
__attribute__((used)) const char relocated_target[] = "target";
__attribute__((used)) const char *const relocated_pointer = relocated_target;

__attribute__((used, noinline)) int function_with_a_body(int x)
{
    return x * 3 + 1;
}

/* Copies the first `len` bytes of src (all if len == 0) to a fresh temporary file. */
static char *copy_file(const char *src, size_t len)
{
    static char tmpl[64];
    strcpy(tmpl, "/tmp/ocpreempt-test-elf-XXXXXX");
    int out = mkstemp(tmpl);
    FILE *in = fopen(src, "rb");
    if (out < 0 || in == NULL)
        return NULL;
    char buf[65536];
    size_t total = 0, n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (len && total + n > len)
            n = len - total;
        if (write(out, buf, n) != (ssize_t)n)
            return NULL;
        total += n;
        if (len && total == len)
            break;
    }
    fclose(in);
    close(out);
    return tmpl;
}

/* File offset of a link-time address, through the program headers (libelf directly, to
 * check elf_image against an independent computation). */
static long file_offset_of(const char *path, uint64_t vaddr)
{
    int fd = open(path, O_RDONLY);
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    size_t n = 0;
    long result = -1;
    if (e != NULL && elf_getphdrnum(e, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr &&
                vaddr < ph.p_vaddr + ph.p_filesz)
                result = (long)(ph.p_offset + (vaddr - ph.p_vaddr));
        }
    }
    if (e)
        elf_end(e);
    close(fd);
    return result;
}

/* The run-time address minus the link-time address of relocated_target. */
static uint64_t load_bias(struct elf_image *img)
{
    struct elf_symbol s;
    if (elf_image_symbol(img, "relocated_target", &s) != 0)
        return 0;
    return (uint64_t)(uintptr_t)relocated_target - s.value;
}

static void check_relocated_read(struct elf_image *img)
{
    struct elf_symbol ptr;
    CHECK_EQ(elf_image_symbol(img, "relocated_pointer", &ptr), 0);
    CHECK_EQ(ptr.kind, ELF_SYMBOL_OBJECT);
    uint64_t value = 0;
    CHECK_EQ(elf_image_read(img, ptr.value, &value, sizeof value), 0);
    CHECK_EQ(value + load_bias(img), (uintptr_t)relocated_pointer);
    uint32_t high = 0;                              /* a read covering half the word */
    CHECK_EQ(elf_image_read(img, ptr.value + 4, &high, sizeof high), 0);
    CHECK_EQ(high, (uint32_t)(value >> 32));
    uint8_t around[24];                             /* a read the word sits inside */
    CHECK_EQ(elf_image_read(img, ptr.value - 8, around, sizeof around), 0);
    uint64_t middle;
    memcpy(&middle, around + 8, 8);
    CHECK_EQ(middle, value);
}

static void test_relocated_reads(int argc, char **argv)
{
    struct analysis_error err = {{0}};
    struct elf_image *img;
    if (elf_image_open(check_self_path(), &img, &err) != 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        check_failures++;
        return;
    }
    if (!elf_image_is_pie(img)) {
        elf_image_close(img);
        SKIP("test executable is not a PIE: no relocations to apply");
    }
    check_relocated_read(img);
    CHECK_EQ(elf_image_pending_relocs(img), 0);     /* GNU ld writes values in place */
    uint8_t byte;
    CHECK_EQ(elf_image_read(img, 0xffffffffff000000ull, &byte, 1), (uint64_t)-1);
    elf_image_close(img);
}

/* lld leaves zero in the file and relies on the addend: emulate it on a copy. */
static void test_zeroed_relocation(int argc, char **argv)
{
    struct analysis_error err = {{0}};
    struct elf_image *img;
    CHECK_EQ(elf_image_open(check_self_path(), &img, &err), 0);
    if (img == NULL)
        return;
    if (!elf_image_is_pie(img)) {
        elf_image_close(img);
        SKIP("test executable is not a PIE");
    }
    struct elf_symbol ptr;
    CHECK_EQ(elf_image_symbol(img, "relocated_pointer", &ptr), 0);
    elf_image_close(img);

    char *copy = copy_file(check_self_path(), 0);
    CHECK(copy != NULL);
    long off = file_offset_of(copy, ptr.value);
    CHECK(off > 0);
    int fd = open(copy, O_WRONLY);
    const uint64_t zero = 0;
    CHECK_EQ(pwrite(fd, &zero, 8, off), 8);
    close(fd);

    CHECK_EQ(elf_image_open(copy, &img, &err), 0);
    if (img != NULL) {
        CHECK(elf_image_pending_relocs(img) >= 1);
        check_relocated_read(img);
        elf_image_close(img);
    }
    unlink(copy);
}

static void test_symbols(int argc, char **argv)
{
    struct analysis_error err = {{0}};
    struct elf_image *img;
    CHECK_EQ(elf_image_open(check_self_path(), &img, &err), 0);
    if (img == NULL)
        return;
    struct elf_symbol fn, at;
    CHECK_EQ(elf_image_symbol(img, "function_with_a_body", &fn), 0);
    CHECK_EQ(fn.kind, ELF_SYMBOL_FUNC);
    CHECK(fn.size > 0);
    CHECK_EQ(elf_image_symbol_at(img, fn.value + fn.size / 2, &at), 0);
    CHECK_STR(at.name, "function_with_a_body");
    CHECK_EQ(elf_image_symbol(img, "no_such_symbol_anywhere", &fn), (uint64_t)-1);
    CHECK(elf_image_has_symtab(img));
    const uint8_t *code = elf_image_code(img, fn.value, 4);
    CHECK(code != NULL && memcmp(code, (const void *)(uintptr_t)(fn.value + load_bias(img)), 4) == 0);
    elf_image_close(img);
}

static void expect_open_failure(const char *path, const char *needle)
{
    struct analysis_error err = {{0}};
    struct elf_image *img = NULL;
    if (elf_image_open(path, &img, &err) == 0) {
        fprintf(stderr, "%s opened, expected a failure mentioning '%s'\n", path, needle);
        check_failures++;
        elf_image_close(img);
        return;
    }
    CHECK(img == NULL);
    if (strstr(err.msg, needle) == NULL) {
        fprintf(stderr, "error '%s' does not mention '%s'\n", err.msg, needle);
        check_failures++;
    }
}

static void test_rejects_bad_files(int argc, char **argv)
{
    expect_open_failure("/nonexistent/file", "cannot open");
    expect_open_failure("/tmp", "not a regular file");
    long size = 0;
    FILE *f = fopen(check_self_path(), "rb");
    if (f && fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (f)
        fclose(f);
    /* cut at the middle and near the start: libelf or our bounds checks must notice */
    const size_t cuts[] = {(size_t)size / 2, 100, 3};
    for (size_t i = 0; i < 3; i++) {
        char *copy = copy_file(check_self_path(), cuts[i]);
        struct analysis_error err = {{0}};
        struct elf_image *img = NULL;
        CHECK(elf_image_open(copy, &img, &err) != 0);
        CHECK(err.msg[0] != '\0');
        elf_image_close(img);
        unlink(copy);
    }
    char tmpl[] = "/tmp/ocpreempt-test-garbage-XXXXXX";
    int fd = mkstemp(tmpl);
    for (int i = 0; i < 4096; i++) {
        uint8_t b = (uint8_t)(i * 7919u >> 3);
        CHECK_EQ(write(fd, &b, 1), 1);
    }
    close(fd);
    expect_open_failure(tmpl, "not");
    unlink(tmpl);
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"relocated_reads", test_relocated_reads},
        {"zeroed_relocation", test_zeroed_relocation},
        {"symbols", test_symbols},
        {"rejects_bad_files", test_rejects_bad_files},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
