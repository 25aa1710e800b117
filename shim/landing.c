/* landing: see landing.h. The checks run cheapest first; the stack walk, whose cost grows
 * with the fiber's depth, runs last and only for a request that passed every other check.
 *
 * The walk mirrors the runtime's caml_next_frame_descriptor (5.3, amd64 without frame
 * pointers: the start-up refuses frame-pointer runtimes): from current_stack->sp, which
 * holds the return address into the interrupted function, each descriptor's frame size
 * leads to the next return address; a descriptor of size 0xFFFF marks the end of an OCaml
 * chunk, which is the fiber's base when the 4-word stack header ends at Stack_high, and a
 * callback boundary (C frames below, then more OCaml frames) otherwise. */
#include "landing.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"
#include "shim_state.h"
#include "stub_abi.h"
#include "yield_target.h"

#define VAL_UNIT ((uintptr_t)1)
#define STACK_HEADER_SIZE 32          /* amd64 Stack_header_size: C stack link + trap */
#define PARENT_CHAIN_MAX 4096         /* effect handlers nested deeper: refuse */

static struct extent_set extents;

int landing_prepare(const struct elf_image *img, char *why, size_t why_len)
{
    const char *user[CONFIG_CRITICAL_MAX];
    struct analysis_error err;
    for (size_t i = 0; i < shim_config.critical_count; i++)
        user[i] = shim_config.critical[i];
    if (critical_extents_resolve(img, user, shim_config.critical_count, &extents, &err) != 0) {
        snprintf(why, why_len, "%s", err.msg);
        return -1;
    }
    return 0;
}

const struct extent_set *landing_extents(void) { return &extents; }

/* The handler chain from this stack up: the root has no parent. A root that is a main
 * stack (created by caml_alloc_main_stack with Val_unit handlers) is the thread's own; a
 * root that is a fiber had its parent cleared by alloc_and_clear_stack_parent
 * (runtime/callback.c): a callback runs on it. */
static enum landing_verdict fiber_context(uintptr_t stack)
{
    uintptr_t s = stack;
    for (int depth = 0; depth < PARENT_CHAIN_MAX; depth++) {
        uintptr_t handler = STACK_FIELD(s, handler);
        uintptr_t parent = HANDLER_FIELD(handler, parent);
        if (parent == 0) {
            if (HANDLER_FIELD(handler, handle_effect) != VAL_UNIT)
                return LAND_CALLBACK;
            return s == stack ? LAND_MAIN_FIBER : LAND_OK;
        }
        s = parent;
    }
    return LAND_UNWALKABLE;
}

static enum landing_verdict frame_verdict(uintptr_t pc)
{
    if (pc == (uintptr_t)ocpreempt_stub_yield_ret || yield_target_contains(pc))
        return LAND_IN_YIELD;
    if (critical_extents_find(&extents, pc - ocaml_rt.bias))
        return LAND_EXTENT;
    return LAND_OK;
}

/* Every frame of the running fiber, innermost first, down to its base. */
static enum landing_verdict walk_fiber(uintptr_t stack)
{
    const char *sp = (const char *)STACK_FIELD(stack, sp);
    const char *high = (const char *)STACK_FIELD(stack, handler);
    uintptr_t pc;
    memcpy(&pc, sp, sizeof pc);
    sp += sizeof pc;
    caml_frame_descrs_t fds = ocaml_rt.get_frame_descrs();
    for (;;) {
        enum landing_verdict v = frame_verdict(pc);
        if (v != LAND_OK)
            return v;
        const uint8_t *d = ocaml_rt.find_frame_descr(fds, pc);
        if (!d)
            return LAND_UNWALKABLE;
        uint16_t frame_data;
        memcpy(&frame_data, d + sizeof(uintptr_t), sizeof frame_data);
        if (frame_data == FRAME_RETURN_TO_C_MARK)
            return sp + STACK_HEADER_SIZE == high ? LAND_OK : LAND_CALLBACK;
        sp += frame_data & ~3u;
        if (sp > high)
            return LAND_UNWALKABLE;
        memcpy(&pc, sp - sizeof pc, sizeof pc);
    }
}

static enum landing_verdict site_refusal(const struct safepoint *site)
{
    switch (site->refusal) {
    case SITE_DENIED:    return LAND_DENIED;
    case SITE_BAD_SHAPE: return LAND_BAD_SHAPE;
    case SITE_IN_YIELD:  return LAND_IN_YIELD;
    default:             return LAND_OK;
    }
}

enum landing_verdict landing_decide(const struct thread_record *t, void *ds,
                                    const struct safepoint **site_out)
{
    uintptr_t stack = *DS(ds, current_stack);
    const struct safepoint *site = site_table_find(*(uintptr_t *)STACK_FIELD(stack, sp));
    *site_out = site;
    if (!site)
        return LAND_NOT_SAFEPOINT;
    enum landing_verdict v = fiber_context(stack);
    if (v == LAND_OK)
        v = site_refusal(site);
    if (v != LAND_OK)
        return v;
    if (t->ocaml_mutexes_held > 0)
        return LAND_MUTEX;
    if (t->unhandled_fiber && t->unhandled_fiber == STACK_FIELD(stack, id) + 1)
        return LAND_UNHANDLED;
    return walk_fiber(stack);
}
