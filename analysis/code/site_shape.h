/* site_shape: does the code around a safe point have the shape the injector relies on?
 *
 * The shim resumes a preempted site by jumping to its original return address, so it needs
 * that address to be the return of a direct `call caml_call_gc` (then a `jmp` back into the
 * function, emit_call_gc in asmcomp/amd64/emit.mlp), or of `call caml_allocN` in -compact
 * code. Anything else is refused. Pure function over bytes.
 */
#ifndef OCPREEMPT_SITE_SHAPE_H
#define OCPREEMPT_SITE_SHAPE_H

#include <stdbool.h>
#include <stdint.h>

#include "elf_image.h"

enum site_shape {
    SHAPE_CALL_GC_THEN_JMP,     /* e8 <caml_call_gc> at retaddr-5, jmp (e9/eb) at retaddr */
    SHAPE_CALL_ALLOCN,          /* e8 <caml_alloc1|2|3|N> at retaddr-5 (-compact) */
    SHAPE_UNRECOGNISED,
};

struct site_targets {           /* link-time (file) or run-time addresses, consistently */
    uint64_t call_gc, alloc1, alloc2, alloc3, allocN;
};

/* code points at the 5 bytes before retaddr followed by at least 2 bytes at retaddr
 * (code[0] is the byte at retaddr - 5). */
enum site_shape site_shape_classify(const uint8_t code[7], uint64_t retaddr,
                                    const struct site_targets *t);

/* Bytes around a return address that anyone reads: the 5-byte call before it and the
 * up-to-5-byte jmp after it (classification here, the injector's resume and the naming of
 * the body address in the shim). */
#define SITE_CODE_BEFORE 5u
#define SITE_CODE_AFTER 5u

/* The one rule the probe and the shim share (issue 9 item 9): a safe point's return
 * address comes from the frame table, i.e. from the file, so before any code is read
 * there, [retaddr - SITE_CODE_BEFORE, retaddr + SITE_CODE_AFTER) must lie in an executable
 * segment of `img`; the shape is then classified from the file's bytes (code carries no
 * relocations, so they are the bytes the process runs). retaddr and t are link-time
 * addresses. 0 with *out set, or -1 when the address is outside the code: a corrupt
 * frame table, which both tools refuse. */
int site_shape_in_image(const struct elf_image *img, uint64_t retaddr,
                        const struct site_targets *t, enum site_shape *out);

/* The rule alone, for a reader that then classifies the same bytes where they are mapped
 * (the shim, in memory, so the check costs no page of the file): does the code around
 * link-time retaddr lie in an executable segment of img? */
bool site_code_in_image(const struct elf_image *img, uint64_t retaddr);

const char *site_shape_name(enum site_shape s);

#endif
