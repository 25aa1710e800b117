/* site_shape: classification of the code around a safe point (see site_shape.h).
 *
 * Invariants: site_shape_classify looks only at the 7 bytes handed in;
 * site_shape_in_image reads code only after elf_image_in_code() vouched for the range;
 * a target address of 0 in `site_targets` means "absent" and never matches, so a binary
 * lacking caml_allocN (say) cannot turn a call to address 0 into a recognised site.
 */
#include "site_shape.h"

#include <stdbool.h>
#include <string.h>

#define OPCODE_CALL_REL32 0xe8
#define OPCODE_JMP_REL32 0xe9
#define OPCODE_JMP_REL8 0xeb
#define CALL_REL32_LEN 5

/* Target of the `call rel32` ending at retaddr, or false if code[0] is not one. */
static bool direct_call_target(const uint8_t code[7], uint64_t retaddr, uint64_t *target)
{
    if (code[0] != OPCODE_CALL_REL32)
        return false;
    int32_t rel;
    memcpy(&rel, code + 1, sizeof rel);
    *target = retaddr + (uint64_t)(int64_t)rel;
    return true;
}

static bool is_target(uint64_t addr, uint64_t candidate)
{
    return candidate != 0 && addr == candidate;
}

enum site_shape site_shape_classify(const uint8_t code[7], uint64_t retaddr,
                                    const struct site_targets *t)
{
    uint64_t target;
    if (!direct_call_target(code, retaddr, &target))
        return SHAPE_UNRECOGNISED;
    const uint8_t after = code[CALL_REL32_LEN];
    if (is_target(target, t->call_gc) && (after == OPCODE_JMP_REL32 || after == OPCODE_JMP_REL8))
        return SHAPE_CALL_GC_THEN_JMP;
    if (is_target(target, t->alloc1) || is_target(target, t->alloc2) ||
        is_target(target, t->alloc3) || is_target(target, t->allocN))
        return SHAPE_CALL_ALLOCN;
    return SHAPE_UNRECOGNISED;
}

bool site_code_in_image(const struct elf_image *img, uint64_t retaddr)
{
    return retaddr >= SITE_CODE_BEFORE &&
           elf_image_in_code(img, retaddr - SITE_CODE_BEFORE, SITE_CODE_BEFORE + SITE_CODE_AFTER);
}

int site_shape_in_image(const struct elf_image *img, uint64_t retaddr,
                        const struct site_targets *t, enum site_shape *out)
{
    if (!site_code_in_image(img, retaddr))
        return -1;
    const uint8_t *code = elf_image_code(img, retaddr - SITE_CODE_BEFORE, 7);
    if (code == NULL)
        return -1;
    *out = site_shape_classify(code, retaddr, t);
    return 0;
}

const char *site_shape_name(enum site_shape s)
{
    switch (s) {
    case SHAPE_CALL_GC_THEN_JMP: return "call-gc-then-jmp";
    case SHAPE_CALL_ALLOCN: return "call-allocN";
    case SHAPE_UNRECOGNISED: return "unrecognised";
    }
    return "unknown";
}
