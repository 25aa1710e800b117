/* fiber_starter: see fiber_starter.h. Frame arithmetic as in fiber_walk.c (a suspended
 * stack's sp holds a return address; a frame of descriptor size S is followed by its
 * caller's return address at sp + S). */
#include "fiber_starter.h"

#include <stdbool.h>
#include <string.h>

#include "code_owner.h"
#include "fiber_walk.h"
#include "frametable.h"
#include "runtime.h"

#define PARENT_CHAIN_MAX 4096         /* as landing.c's handler chain bound */

/* The mechanism between a fiber and its starter: skipped. */
static bool passes_through(uintptr_t pc)
{
    uint64_t link_pc = pc - ocaml_rt.bias;
    return code_owner_of(link_pc) == OWNER_TRANSPARENT || code_owner_in_effect_library(link_pc);
}

enum found { FOUND, AT_BASE, UNNAMED };

/* The first frame of the suspended stack `s` that does not pass through. */
static enum found starter_on(uintptr_t s, uintptr_t *pc_out)
{
    const char *sp = (const char *)STACK_FIELD(s, sp);
    const char *high = (const char *)STACK_FIELD(s, handler);
    for (;;) {
        uintptr_t pc;
        uint16_t frame_data;
        if (sp + sizeof pc > high)
            return UNNAMED;
        memcpy(&pc, sp, sizeof pc);
        if (!fiber_frame_data(pc, &frame_data))
            return UNNAMED;
        if (!passes_through(pc)) {
            *pc_out = pc;
            return FOUND;
        }
        if (frame_data == FRAME_RETURN_TO_C_MARK)
            return sp + sizeof pc + STACK_HEADER_SIZE == high ? AT_BASE : UNNAMED;
        sp += frame_data & FRAME_SIZE_MASK;
    }
}

uintptr_t fiber_starter(uintptr_t stack)
{
    uintptr_t s = stack;
    for (int depth = 0; depth < PARENT_CHAIN_MAX; depth++) {
        uintptr_t parent = HANDLER_FIELD(STACK_FIELD(s, handler), parent);
        uintptr_t pc = 0;
        if (parent == 0)
            return 0;
        switch (starter_on(parent, &pc)) {
        case FOUND:   return pc;
        case AT_BASE: s = parent; break;
        default:      return 0;
        }
    }
    return 0;
}
