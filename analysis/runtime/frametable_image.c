/* frametable_image: walking caml_frametable in a file (see frametable_image.h).
 *
 * A table's length is only known by decoding it, so we read a window (the table symbol's
 * size when it has one, else 64 KiB), decode, and grow the window up to the end of the
 * segment, and never beyond MAX_TABLE_BYTES, when the decoder runs out of bytes.
 * Invariant: each window is a fresh, 8-byte aligned heap copy, so the decoder's alignment
 * rule holds whatever the file offset.
 */
#include "frametable_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_error.h"
#include "frametable.h"

#define MAX_MODULES (1u << 20)
#define FIRST_WINDOW (64u << 10)
/* One module's table is at most a few MiB (ocamlopt.opt's largest is under 1 MiB). The
 * segment's memsz comes from the file and may claim terabytes of .bss: never copy more
 * than this, whatever the segment or the table symbol's size says. */
#define MAX_TABLE_BYTES (64u << 20)

static int read_table_pointer(const struct elf_image *img, uint64_t array, size_t i,
                              uint64_t *out, struct analysis_error *err)
{
    if (elf_image_read(img, array + 8 * i, out, sizeof *out) != 0) {
        analysis_error_set(err, "caml_frametable[%zu] lies outside the file's segments "
                           "(array not NULL-terminated?)", i);
        return -1;
    }
    return 0;
}

/* Reads the table at addr into a heap buffer of exactly its length. */
static int read_table(const struct elf_image *img, uint64_t addr, uint64_t hint,
                      uint8_t **bytes, size_t *length, struct analysis_error *err)
{
    uint64_t seg_end;
    if ((addr & 7) != 0 || elf_image_segment_end(img, addr, &seg_end) != 0) {
        analysis_error_set(err, "frame table at 0x%llx is misaligned or outside the file",
                           (unsigned long long)addr);
        return -1;
    }
    uint64_t max = seg_end - addr;
    if (max > MAX_TABLE_BYTES)
        max = MAX_TABLE_BYTES;
    uint64_t window = hint >= 16 ? hint : FIRST_WINDOW;
    for (;;) {
        if (window > max)
            window = max;
        uint8_t *buf = malloc(window ? window : 1);
        if (buf == NULL) {
            analysis_error_set(err, "out of memory reading frame table at 0x%llx",
                               (unsigned long long)addr);
            return -1;
        }
        long len = elf_image_read(img, addr, buf, window) == 0 ? frametable_length(buf, window) : -1;
        if (len >= 0) {
            *bytes = buf;
            *length = (size_t)len;
            return 0;
        }
        free(buf);
        if (window == max) {
            analysis_error_set(err, "malformed frame table at 0x%llx",
                               (unsigned long long)addr);
            return -1;
        }
        window *= 4;
    }
}

int frametable_image_each(const struct elf_image *img, frametable_module_visit visit,
                          void *ctx, struct analysis_error *err)
{
    struct elf_symbol array;
    if (elf_image_symbol(img, "caml_frametable", &array) != 0) {
        analysis_error_set(err, "no caml_frametable symbol");
        return -1;
    }
    for (size_t i = 0; i < MAX_MODULES; i++) {
        uint64_t table;
        if (read_table_pointer(img, array.value, i, &table, err) != 0)
            return -1;
        if (table == 0)
            return 0;
        struct frametable_module m = {.index = i, .table_addr = table};
        struct elf_symbol named;
        uint64_t hint = 0;
        if (elf_image_symbol_at(img, table, &named) == 0 && named.value == table) {
            snprintf(m.name, sizeof m.name, "%s", named.name);
            hint = named.size;
        }
        uint8_t *bytes;
        if (read_table(img, table, hint, &bytes, &m.length, err) != 0) {
            char why[ANALYSIS_ERR_LEN];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            analysis_error_set(err, "%s (%s, caml_frametable[%zu])", why,
                               m.name[0] ? m.name : "unnamed", i);
            return -1;
        }
        m.bytes = bytes;
        int r = visit(&m, ctx);
        free(bytes);
        if (r != 0)
            return r;
    }
    analysis_error_set(err, "caml_frametable has more than %u entries", MAX_MODULES);
    return -1;
}
