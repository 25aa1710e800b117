/* frametable_image: the frame tables of an ELF file, module by module.
 *
 * Follows caml_frametable (a NULL-terminated array of pointers to per-module tables) in the
 * file, with relocations applied, and hands each table to the caller as a decoded-ready
 * byte copy. Used by ocpreempt-probe's census; the shim walks the same tables in memory
 * with frametable_each() directly. Invariants: never reads outside the file's loadable
 * segments; a dangling pointer, missing terminator or malformed table is an error naming
 * the table, not a crash; the bytes handed to `visit` are freed after it returns.
 */
#ifndef OCPREEMPT_FRAMETABLE_IMAGE_H
#define OCPREEMPT_FRAMETABLE_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "elf_image.h"

#define FRAMETABLE_NAME_MAX 256

struct frametable_module {
    size_t index;                       /* position in caml_frametable */
    uint64_t table_addr;                /* link-time address of the module's table */
    char name[FRAMETABLE_NAME_MAX];     /* e.g. "camlSched.frametable", "" if unnamed */
    const uint8_t *bytes;               /* count word + descriptors, 8-byte aligned */
    size_t length;                      /* bytes */
};

typedef int (*frametable_module_visit)(const struct frametable_module *m, void *ctx);

/* Calls visit for each module table. Returns 0, visit's non-zero value, or -1 with err set
 * (no caml_frametable symbol, unterminated array, unreadable or malformed table). */
int frametable_image_each(const struct elf_image *img, frametable_module_visit visit,
                          void *ctx, struct analysis_error *err);

#endif
