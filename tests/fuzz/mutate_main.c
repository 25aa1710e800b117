/* ocpreempt-mutate: writes one doctored copy of an executable, for the hardening tests.
 *
 *   ocpreempt-mutate IN OUT reloc-wrap [VALUE]     first RELATIVE r_offset := VALUE
 *                                                  (default 0xFFFFFFFFFFFFFFF9)
 *   ocpreempt-mutate IN OUT symbol NAME VALUE|past|relro
 *                                                  .symtab st_value of NAME := VALUE
 *                                                  ("past": 1 GiB beyond the image;
 *                                                  "relro": the start of PT_GNU_RELRO;
 *                                                  NAME ending in '*': a prefix)
 *   ocpreempt-mutate IN OUT retaddr PREFIX         first poll/alloc descriptor in a
 *                                                  function PREFIX*: return address (and
 *                                                  its relocation's addend) moved 1 GiB
 *                                                  beyond the image
 *   ocpreempt-mutate IN OUT layout MEMBER OFFSET   DWARF: caml_domain_state.MEMBER at
 *                                                  OFFSET, in every compilation unit
 *
 * Exit 0 written, 1 the thing to mutate was not found (one line says what), 2 usage.
 * Test tool: it trusts IN to be a sound executable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_mutate.h"

#define BEYOND_IMAGE (1ull << 30)
#define MAX_UNITS 256

static int usage(void)
{
    fprintf(stderr, "usage: ocpreempt-mutate IN OUT reloc-wrap [VALUE] | symbol NAME VALUE|past|relro"
                    " | retaddr PREFIX | layout MEMBER OFFSET\n");
    return 2;
}

static int not_found(const char *what)
{
    fprintf(stderr, "ocpreempt-mutate: %s not found\n", what);
    return 1;
}

static int mutate(const char *in, struct blob *b, int argc, char **argv)
{
    const char *op = argv[0];
    if (strcmp(op, "reloc-wrap") == 0 && argc <= 2) {
        uint64_t value = argc == 2 ? strtoull(argv[1], NULL, 0) : 0xFFFFFFFFFFFFFFF9ull;
        long at = mutate_relative_reloc(in, 0, NULL);
        return at < 0 ? not_found("R_X86_64_RELATIVE relocation") : blob_put(b, at, value, 8);
    }
    if (strcmp(op, "symbol") == 0 && argc == 3) {
        uint64_t value = strcmp(argv[2], "past") == 0    ? mutate_image_end(in) + BEYOND_IMAGE
                         : strcmp(argv[2], "relro") == 0 ? mutate_relro_start(in)
                                                         : strtoull(argv[2], NULL, 0);
        if (value == 0)
            return not_found("the address for that value");
        long at = mutate_symbol_field(in, argv[1], 0);
        return at < 0 ? not_found(argv[1]) : blob_put(b, at, value, 8);
    }
    if (strcmp(op, "retaddr") == 0 && argc == 2) {
        uint64_t word = mutate_safepoint_retaddr(in, argv[1]);
        long at = word ? mutate_vaddr_offset(in, word) : -1;
        if (at < 0)
            return not_found("poll/allocation descriptor in that function");
        uint64_t moved = mutate_image_end(in) + BEYOND_IMAGE;
        /* In a PIE the loader writes the relocation's addend there: move both. */
        long reloc = mutate_relative_reloc_at(in, word);
        if (reloc >= 0 && blob_put(b, reloc + 16, moved, 8) != 0)
            return not_found("relocation inside the file");
        return blob_put(b, at, moved, 8);
    }
    if (strcmp(op, "layout") == 0 && argc == 3) {
        long offsets[MAX_UNITS];
        size_t widths[MAX_UNITS];
        size_t n = mutate_layout_member(in, argv[1], offsets, widths, MAX_UNITS);
        if (n == 0)
            return not_found("caml_domain_state member in uncompressed DWARF");
        uint64_t value = strtoull(argv[2], NULL, 0);
        for (size_t i = 0; i < n; i++)
            if (widths[i] < 8 && value >> (8 * widths[i]) != 0)
                return not_found("DWARF form wide enough for that offset");
        for (size_t i = 0; i < n; i++)
            if (blob_put(b, offsets[i], value, widths[i]) != 0)
                return not_found("member offset inside the file");
        return 0;
    }
    return usage();
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    struct blob b;
    if (blob_load(argv[1], &b) != 0) {
        fprintf(stderr, "ocpreempt-mutate: cannot read %s\n", argv[1]);
        return 2;
    }
    int rc = mutate(argv[1], &b, argc - 3, argv + 3);
    if (rc == 0 && blob_save(&b, b.size, argv[2]) != 0) {
        fprintf(stderr, "ocpreempt-mutate: cannot write %s\n", argv[2]);
        rc = 2;
    }
    blob_free(&b);
    return rc;
}
