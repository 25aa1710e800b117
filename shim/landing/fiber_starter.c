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
        if (!fiber_frame_at(sp, high, &pc, &frame_data))
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

/* The code of a handler closure (handle_value, handle_exn), or 0 for an immediate (a main
 * stack's Val_unit). Field 0 of an OCaml 5 closure block is its code pointer. */
static uintptr_t closure_code(uintptr_t v)
{
    if (v == 0 || (v & 1))
        return 0;
    return *(const uintptr_t *)v;
}

/* The handler's own code: Effect.Deep.match_with installs the scheduler's retc and exnc
 * as they are (only effc is wrapped, by Stdlib__Effect), so they name the scheduler even
 * where tail calls left no frame of it on any stack (Picos_mux_fifo's `next` and
 * `run_fiber` reach match_with, and match_with reaches caml_runstack, by tail calls). */
static uintptr_t handler_code(uintptr_t handler)
{
    uintptr_t code = closure_code(HANDLER_FIELD(handler, handle_value));
    if (code && !passes_through(code))
        return code;
    code = closure_code(HANDLER_FIELD(handler, handle_exn));
    if (code && !passes_through(code))
        return code;
    return 0;
}

uintptr_t fiber_starter(uintptr_t stack)
{
    uintptr_t s = stack;
    for (int depth = 0; depth < PARENT_CHAIN_MAX; depth++) {
        uintptr_t handler = STACK_FIELD(s, handler);
        uintptr_t parent = HANDLER_FIELD(handler, parent);
        uintptr_t pc = 0;
        if (parent == 0)
            return 0;
        pc = handler_code(handler);
        if (pc)
            return pc;
        switch (starter_on(parent, &pc)) {
        case FOUND:   return pc;
        case AT_BASE: s = parent; break;
        default:      return 0;
        }
    }
    return 0;
}
