/* landing: see landing.h. The checks run cheapest first; the stack walk, whose cost grows
 * with the number of frames pushed or popped since the fiber's last decision
 * (fiber_walk.h), runs last and only for a request that passed every other check. */
#include "landing.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "code_owner.h"
#include "fiber_walk.h"
#include "inline_frames.h"
#include "log.h"
#include "runtime.h"
#include "shim_state.h"
#include "stub_abi.h"
#include "yield_target.h"

#define VAL_UNIT ((uintptr_t)1)
#define PARENT_CHAIN_MAX 4096         /* effect handlers nested deeper: refuse */

static struct extent_set extents;

/* A user's OCPREEMPT_CRITICAL entry that matches nothing protects nothing: say so, once
 * per entry at start-up, as a misspelt yield is reported (the probe lists it too). The
 * program is still preempted: the other entries and the built-in ones hold. */
static void warn_unresolved_critical(void)
{
    for (size_t i = 0; i < extents.entry_count; i++) {
        const struct extent_entry *x = &extents.entry[i];
        if (!x->builtin && x->units == 0 && x->functions == 0)
            log_warn("OCPREEMPT_CRITICAL: %s is not in this program: it protects nothing "
                     "(check the spelling: Unit, Lib.Unit or Unit.function)", x->name);
    }
}

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
    warn_unresolved_critical();
    return code_owner_prepare(img, why, why_len);
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

/* The class of a return address for fiber_walk: LAND_OK (0), LAND_IN_YIELD, LAND_EXTENT,
 * or an ordinary frame's owner attribute (FRAME_TRANSPARENT, FRAME_DENIED). */
static uint8_t frame_class(uintptr_t pc)
{
    if (pc == (uintptr_t)ocpreempt_stub_yield_ret || yield_target_contains(pc))
        return LAND_IN_YIELD;
    if (critical_extents_find(&extents, pc - ocaml_rt.bias))
        return LAND_EXTENT;
    /* a call from code inlined out of an extent or a denied unit (inline_frames.h) */
    switch (inline_frames_of(pc)) {
    case INLINE_FRAME_EXTENT: return LAND_EXTENT;
    case INLINE_FRAME_DENIED: return FRAME_DENIED;
    default:                  break;
    }
    switch (code_owner_of(pc - ocaml_rt.bias)) {
    case OWNER_TRANSPARENT: return FRAME_TRANSPARENT;
    case OWNER_DENIED:      return FRAME_DENIED;
    default:                return LAND_OK;
    }
}

_Static_assert(LAND_OK == 0, "fiber_walk: class 0 is an ordinary frame");
_Static_assert(LAND_UNHANDLED <= FRAME_STOP_MASK, "fiber_walk: verdicts fit the stop bits");

/* Every frame of the running fiber, innermost first, down to its base. A site in
 * transparent code (Stdlib, glue) whose nearest non-transparent caller is a deny-listed
 * unit is refused as LAND_DENIED: it lies inside the scheduler (code_owner.h). The site's
 * own unit was judged by site_refusal already, so this only ever adds the callers' verdict
 * for transparent innermost frames. */
static enum landing_verdict walk_fiber(uintptr_t stack, size_t *frames)
{
    struct walk_outcome w;
    fiber_walk(stack, (int64_t)STACK_FIELD(stack, id), frame_class, &w);
    *frames = w.frames;
    switch (w.result) {
    case WALK_CLEAN:    return w.owner_denied ? LAND_DENIED : LAND_OK;
    case WALK_HIT:      return (enum landing_verdict)w.hit;
    case WALK_CALLBACK: return LAND_CALLBACK;
    default:            return LAND_UNWALKABLE;
    }
}

static enum landing_verdict site_refusal(const struct safepoint *site)
{
    switch (site->refusal) {
    case SITE_DENIED:    return LAND_DENIED;
    case SITE_BAD_SHAPE: return LAND_BAD_SHAPE;
    case SITE_IN_YIELD:  return LAND_IN_YIELD;
    case SITE_POLICY:    return LAND_SITE_POLICY;
    case SITE_EXTENT:    return LAND_EXTENT;
    default:             return LAND_OK;
    }
}

enum landing_verdict landing_decide(const struct thread_record *t, void *ds,
                                    const struct safepoint **site_out, size_t *frames)
{
    *frames = 0;
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
    return walk_fiber(stack, frames);
}
