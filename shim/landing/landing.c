/* landing: see landing.h. The checks run cheapest first; the stack walk, whose cost grows
 * with the fiber's depth (fiber_walk.h), runs last and only for a request that passed
 * every other check. */
#include "landing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code_owner.h"
#include "fiber_starter.h"
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

struct extent_entry_cached {
    char name[CONFIG_CRITICAL_ENTRY_MAX];
    uint8_t builtin, function_entry, unused[6];
    uint64_t units, functions;
};

void landing_export(struct cache_builder *b)
{
    static struct extent_entry_cached entries[CRITICAL_ENTRY_MAX];
    memset(entries, 0, sizeof entries);
    for (size_t i = 0; i < extents.entry_count; i++) {
        const struct extent_entry *x = &extents.entry[i];
        if (strlen(x->name) >= sizeof entries[i].name) {
            b->failed = true;
            return;
        }
        strcpy(entries[i].name, x->name);
        entries[i].builtin = x->builtin;
        entries[i].function_entry = x->function_entry;
        entries[i].units = x->units;
        entries[i].functions = x->functions;
    }
    cache_builder_add(b, CACHE_TAG_EXTENT_ENTRIES, entries,
                      extents.entry_count * sizeof entries[0]);
    cache_builder_add(b, CACHE_TAG_EXTENT_RANGES, extents.ranges,
                      extents.count * sizeof *extents.ranges);
    code_owner_export(b);
}

int landing_restore(const struct cache_view *v, const struct exe_memory *m, char *why,
                    size_t why_len)
{
    size_t n_entries, n_ranges;
    const struct extent_entry_cached *e =
        cache_view_array(v, CACHE_TAG_EXTENT_ENTRIES, sizeof *e, CRITICAL_ENTRY_MAX, &n_entries);
    const struct extent_range *r =
        cache_view_array(v, CACHE_TAG_EXTENT_RANGES, sizeof *r, 1u << 24, &n_ranges);
    struct extent_range *ranges = e && r ? malloc((n_ranges ? n_ranges : 1) * sizeof *ranges)
                                         : NULL;
    if (!ranges) {
        snprintf(why, why_len, "critical extents record missing");
        return -1;
    }
    for (size_t i = 0; i < n_entries; i++)
        if (!memchr(e[i].name, '\0', sizeof e[i].name) || e[i].builtin > 1 ||
            e[i].function_entry > 1)
            goto bad;
    for (size_t i = 0; i < n_ranges; i++) {
        if (r[i].start >= r[i].end || r[i].entry >= n_entries ||
            !exe_memory_in_code(m, r[i].start, r[i].end - r[i].start) ||
            (i > 0 && r[i].start < r[i - 1].end))
            goto bad;
        ranges[i] = r[i];
    }
    if (code_owner_restore(v, m, why, why_len) != 0) {
        free(ranges);
        return -1;
    }
    memset(&extents, 0, sizeof extents);
    for (size_t i = 0; i < n_entries; i++)
        extents.entry[i] = (struct extent_entry){ e[i].name, e[i].builtin, e[i].function_entry,
                                                  (size_t)e[i].units, (size_t)e[i].functions };
    extents.entry_count = n_entries;
    extents.ranges = ranges;
    extents.count = n_ranges;
    warn_unresolved_critical();
    return 0;
bad:
    free(ranges);
    snprintf(why, why_len, "critical extents record out of range");
    return -1;
}

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

/* A fiber whose frames are all transparent, down to its base, has no caller left to take
 * the verdict from: it takes the verdict of whoever started (or resumed) it. Its handler's
 * code is the scheduler's: Eio's Fiber.fork holds only Stdlib__Fun.protect (reached by
 * tail calls), a Picos fiber starts in caml_curry*; a yield there, before their `try` is
 * armed, lets the scheduler's exception escape the fiber. A hand-rolled scheduler in the
 * program's own units keeps its fibers preemptible. A starter that cannot be named is
 * refused as denied code is (fail closed). */
static enum landing_verdict starter_verdict(uintptr_t stack)
{
    uintptr_t starter = fiber_starter(stack);
    if (!starter)
        return LAND_DENIED;
    return (frame_class(starter) & FRAME_DENIED) ? LAND_DENIED : LAND_OK;
}

static enum landing_verdict walk_verdict(uintptr_t stack, const struct walk_outcome *w)
{
    switch (w->result) {
    case WALK_CLEAN:
        switch (w->owner) {
        case WALK_OWNER_PLAIN:  return LAND_OK;
        case WALK_OWNER_DENIED: return LAND_DENIED;
        default:                return starter_verdict(stack);
        }
    case WALK_HIT:      return (enum landing_verdict)w->hit;
    case WALK_CALLBACK: return LAND_CALLBACK;
    default:            return LAND_UNWALKABLE;
    }
}

/* OCPREEMPT_VERIFY=1: the walk's outcome must equal the reference walk's (fiber_walk.h),
 * frame count included. On the first disagreement: one line, then abort(), whatever
 * OCPREEMPT_LOG says (the point of the mode is to stop a test run). */
typedef enum landing_verdict (*walk_judge)(uintptr_t stack, const struct walk_outcome *w);

static void verify_walk(uintptr_t stack, const struct walk_outcome *fast,
                        enum landing_verdict fast_verdict, walk_judge judge)
{
    struct walk_outcome ref;
    fiber_walk_reference(stack, frame_class, &ref);
    enum landing_verdict ref_verdict = judge(stack, &ref);
    if (ref.result == fast->result && ref.hit == fast->hit && ref.owner == fast->owner &&
        ref.owner_pc == fast->owner_pc && ref.frames == fast->frames &&
        ref_verdict == fast_verdict)
        return;
    char line[LOG_LINE_MAX];
    int n = snprintf(line, sizeof line,
                     "ocpreempt: OCPREEMPT_VERIFY: landing walk disagrees with the reference "
                     "walk: verdict %d/%d, result %d/%d, hit %d/%d, owner %d/%d, frames "
                     "%zu/%zu (fast/reference); aborting\n",
                     (int)fast_verdict, (int)ref_verdict, (int)fast->result, (int)ref.result,
                     fast->hit, ref.hit, (int)fast->owner, (int)ref.owner, fast->frames,
                     ref.frames);
    if (n > 0)
        log_write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    abort();
}

/* Every frame of the running fiber, innermost first, down to its base (fiber_walk.h). A
 * site in transparent code (Stdlib, glue) takes the verdict of its nearest caller that is
 * not transparent (code_owner.h), and with none left in the fiber, of the fiber's starter.
 * The site's own unit was judged by site_refusal already, so this only ever adds the
 * callers' verdict for transparent innermost frames. */
static enum landing_verdict walk_fiber(uintptr_t stack, size_t *frames, uintptr_t *user_frame)
{
    struct walk_outcome w;
    fiber_walk(stack, frame_class, &w);
    *frames += w.frames;
    *user_frame = w.owner == WALK_OWNER_PLAIN ? w.owner_pc : 0;
    enum landing_verdict v = walk_verdict(stack, &w);
    if (shim_config.verify)
        verify_walk(stack, &w, v, walk_verdict);
    return v;
}

/* A suspended parent's verdict: only what its frames are in (an extent, the yield
 * function) and whether it can be walked; where it stopped is not this preemption's
 * business, so owners and starters do not apply. */
static enum landing_verdict parent_verdict(uintptr_t stack, const struct walk_outcome *w)
{
    (void)stack;
    switch (w->result) {
    case WALK_CLEAN:    return LAND_OK;
    case WALK_HIT:      return (enum landing_verdict)w->hit;
    case WALK_CALLBACK: return LAND_CALLBACK;
    default:            return LAND_UNWALKABLE;
    }
}

/* Every parent of the running fiber, up to the root of its handler chain. The yield is
 * handled by the scheduler's handler, somewhere up that chain, and suspends every fiber
 * in between: a parent stopped inside an extent (a lazy thunk that runs a local
 * Effect.Deep handler, a critical function that forks a fiber of its own) stays stopped
 * there while other fibers run, exactly as if the running fiber's own frames were in it.
 * Which handler will handle the yield is not known here, so every parent is walked: an
 * extent above the scheduler's handler (a scheduler run inside Lazy.force) refuses too,
 * which costs liveness, never safety. Suspended stacks keep their return address at sp,
 * as the running one does (fiber_walk.h). */
static enum landing_verdict walk_parents(uintptr_t stack, size_t *frames)
{
    uintptr_t s = stack;
    for (int depth = 0; depth < PARENT_CHAIN_MAX; depth++) {
        s = HANDLER_FIELD(STACK_FIELD(s, handler), parent);
        if (s == 0)
            return LAND_OK;
        struct walk_outcome w;
        fiber_walk(s, frame_class, &w);
        *frames += w.frames;
        enum landing_verdict v = parent_verdict(s, &w);
        if (shim_config.verify)
            verify_walk(s, &w, v, parent_verdict);
        if (v != LAND_OK)
            return v;
    }
    return LAND_UNWALKABLE;
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
                                    const struct safepoint **site_out, size_t *frames,
                                    uintptr_t *user_frame)
{
    *frames = 0;
    *user_frame = 0;
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
    v = walk_fiber(stack, frames, user_frame);
    if (v == LAND_OK)
        v = walk_parents(stack, frames);
    return v;
}
