/* source_lines: `file:line` of code addresses from the DWARF line table (libdw).
 *
 * A session opens libdw once for a batch of look-ups. Addresses are link-time. Files are
 * reported by base name (OCaml records the path the compiler was given). Lines are optional
 * information: every failure is "not found", never an error.
 */
#ifndef OCPREEMPT_SOURCE_LINES_H
#define OCPREEMPT_SOURCE_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"

struct source_lines;

/* NULL when the image has no DWARF. */
struct source_lines *source_lines_open(const struct elf_image *img);
void source_lines_close(struct source_lines *sl);

/* The line of addr: `*file` is the base name (valid until source_lines_close), `*line`
 * > 0. 0 found, -1 not. */
int source_lines_find(struct source_lines *sl, uint64_t addr, const char **file, int *line);

/* Writes "file.ml:42" into buf. 0 found, -1 not. */
int source_lines_at(struct source_lines *sl, uint64_t addr, char *buf, size_t len);

#endif
