/* landing: where a preemption may land. The one rule, asked by the interrupt hook for
 * every request it serves (and by any other caller that wants to preempt the running fiber:
 * chaos mode changes *when* a preemption is tried, never *where*).
 *
 * A fiber stopped at a safe point may be preempted there when (docs/design.md, "Where
 * preemption may land"):
 *  - the safe point is one of ours (the site table) and the site itself is not refused
 *    (deny list: innermost, code shape, the yield function itself, OCPREEMPT_SITES);
 *  - the fiber has a scheduler above it: not the main fiber, and no C-to-OCaml callback
 *    (finaliser, memprof or signal handler) runs on the stack or on one of its parents;
 *  - no frame of the fiber, from the interrupted one to the fiber's base (never past its
 *    handler), is in a critical extent or in the yield function or the stub;
 *  - the thread holds no OCaml Mutex.t, and the fiber's yield was never unhandled.
 * Every refusal is for this request only: the sampler asks again while the fiber stays
 * overdue, and the next safe point is judged afresh.
 * Context: the domain's own thread, in the interrupt hook (domain lock held, no GC can run
 * meanwhile, so the stack does not move under the walk).
 */
#ifndef OCPREEMPT_LANDING_H
#define OCPREEMPT_LANDING_H

#include <stddef.h>
#include <stdint.h>

#include "cache_file.h"
#include "critical_extents.h"
#include "exe_memory.h"
#include "elf_image.h"
#include "site_table.h"
#include "thread_registry.h"

enum landing_verdict {
    LAND_OK,
    LAND_NOT_SAFEPOINT,   /* not stopped at one of our poll/allocation sites */
    LAND_MAIN_FIBER,      /* the thread's main fiber: nothing can handle the yield */
    LAND_CALLBACK,        /* a C-to-OCaml callback runs on this fiber (or a parent) */
    LAND_DENIED,          /* innermost frame in a deny-listed unit */
    LAND_BAD_SHAPE,       /* site code the stub cannot resume */
    LAND_SITE_POLICY,     /* an allocation site OCPREEMPT_SITES leaves out */
    LAND_IN_YIELD,        /* a frame of the yield function, or the stub, on the stack */
    LAND_EXTENT,          /* a frame in a critical extent */
    LAND_UNWALKABLE,      /* a frame without descriptor: refuse rather than guess */
    LAND_MUTEX,           /* the thread holds an OCaml Mutex.t */
    LAND_UNHANDLED,       /* this fiber's yield was unhandled before */
};

/* Resolves the critical extents (built-in + OCPREEMPT_CRITICAL) once, in the constructor.
 * 0, or -1 with why set. */
int landing_prepare(const struct elf_image *img, char *why, size_t why_len);

/* The analysis cache (shim/base/cache_store.h): the extents and the code owners as
 * prepared. The restore checks every range against the executable's code, their order and
 * their entries, and warns about an unresolved OCPREEMPT_CRITICAL entry as the analysis
 * does. 0, or -1 with why. */
void landing_export(struct cache_builder *b);
int landing_restore(const struct cache_view *v, const struct exe_memory *m, char *why,
                    size_t why_len);

/* The extents as resolved (for the start-up summary). */
const struct extent_set *landing_extents(void);

/* May the fiber running on `ds`, stopped in caml_call_gc, be preempted at that safe point?
 * *site_out gets the site (NULL if none), *frames the number of frames walked, and
 * *user_frame the return address of the fiber's nearest frame of the program's own code
 * (the first that is neither transparent nor denied: code_owner.h; the site itself when
 * its code is the program's), 0 when the walk did not reach one. */
enum landing_verdict landing_decide(const struct thread_record *t, void *ds,
                                    const struct safepoint **site_out, size_t *frames,
                                    uintptr_t *user_frame);

#endif
