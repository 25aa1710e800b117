/* debuginfo: decoding the source location a frame descriptor carries (OCaml 5.3's packed
 * debuginfo words, runtime/backtrace_nat.c: caml_debuginfo_location).
 *
 * A descriptor with the debug flag has, per allocation (or one for a poll/call), a 32-bit
 * offset relative to its own address to two info words; those point (relative again) at a
 * name record holding the function's name and, relative to it, the file name. Pure function
 * over memory the caller guarantees is readable (the running process's own tables).
 */
#ifndef OCPREEMPT_DEBUGINFO_H
#define OCPREEMPT_DEBUGINFO_H

#include <stdint.h>

#include "elf_image.h"

struct source_location {
    const char *file;        /* points into the table: valid while it is mapped */
    const char *function;    /* OCaml definition name, e.g. "Main.hog" */
    int line;
};

/* `slot` is the address of one debug_info entry of a descriptor. 0, or -1 if the entry is
 * zero or the words are implausible. */
int debuginfo_decode(const uint32_t *slot, struct source_location *out);

/* The same decoding for a slot in the running executable `img` loaded at `bias`, with
 * every offset checked first: each word and record must lie inside the image's loadable
 * segments and both names must end (NUL) inside theirs. The offsets are file data; a
 * corrupt one must not send a reader outside the mapping. 0, or -1 (then the site has no
 * usable debuginfo). */
int debuginfo_decode_in_image(const uint32_t *slot, uintptr_t bias, const struct elf_image *img,
                              struct source_location *out);

/* The inlining chain of one debug_info slot. A descriptor's debuginfo is a run of items of
 * two words each, innermost first (the inlined function whose code the site is), then
 * each function it was inlined into, down to the function whose machine code it is (the
 * compiler's emitaux.ml, emit_debuginfo; bit 0 of an item's first word: another item
 * follows). Each item's record offset is relative to that item.
 * The slot is named by its link-time address and every word is read from the file's
 * bytes (elf_image_code: the offsets are assembler-resolved, no relocation touches
 * them), so the probe, from the file, and the shim, from its descriptors in memory, read
 * the same chain. Every item is bounds-checked as debuginfo_decode_in_image does; a chain
 * longer than DEBUGINFO_CHAIN_MAX items is malformed. `visit` gets each item (its
 * `file`/`function` point into the image: valid while it is open); a non-zero return
 * stops the walk. Returns the number of items visited (0: the slot is empty, no
 * debuginfo), or -1 if an item is malformed (the items before it were visited). */
#define DEBUGINFO_CHAIN_MAX 256
typedef int (*debuginfo_item_visit)(const struct source_location *item, void *ctx);
int debuginfo_chain_each(const struct elf_image *img, uint64_t slot_link,
                         debuginfo_item_visit visit, void *ctx);

#endif
