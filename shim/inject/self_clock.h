/* self_clock: a fiber that allocates checks its own deadline (OCPREEMPT_SELF_CLOCK=1).
 *
 * The *when* of normal mode, moved onto the fiber's own thread where it can be: chaos
 * mode's mechanism (young_limit placed so that the domain trips after a chosen amount of
 * allocation, with our requested_external_interrupt posted so that the trip reaches the
 * interrupt hook), with a deadline instead of a seeded schedule. At each trip the hook
 * reads the TSC and compares the running fiber's run with the quantum; over (and over in
 * the thread's CPU time too, read only then): the caller submits the trip to the
 * where-rules like a monitor request; under: the next trip is placed where the fiber's
 * allocation rate says its deadline (or half a quantum, if sooner) will be. A trip inside
 * the current minor heap is placed by raising young_limit, with our post kept; one past
 * its end by withdrawing the post and counting minor collections on the runtime's
 * caml_minor_gc_end_hook (one decrement each), which posts it again at the last one: a
 * fiber that fills its minor heap many times a quantum costs a decrement per collection,
 * not a hook call (two per collection while the post stayed: the half-heap trigger and
 * the collection). The monitor backs off while a thread's running fiber trips this way
 * (request/overdue.c). Design, clock and bounds: docs/design.md, "Self-clocking".
 *
 * Contexts: the interrupt hook and the minor-GC-end hook, on the domain's own thread
 * holding its lock; state is the thread record's owner-private `clock`
 * (thread_registry.h). Off in chaos mode, which owns young_limit then.
 */
#ifndef OCPREEMPT_SELF_CLOCK_H
#define OCPREEMPT_SELF_CLOCK_H

#include <stdbool.h>

#include "shim_state.h"
#include "thread_registry.h"

static inline bool self_clock_enabled(void)
{
    return shim_config.self_clock && !shim_config.chaos;
}

/* Where the next trip of t's running fiber is placed (struct self_clock_state.next_trip). */
enum self_clock_next {
    SELF_CLOCK_NONE,             /* not clocked (a main fiber, or not yet placed) */
    SELF_CLOCK_IN_HEAP,          /* young_limit raised: our post must stay */
    SELF_CLOCK_AFTER_MINOR_GCS,  /* counted collections: our post may go */
};

/* Chains the minor-GC-end counter when self-clocking is on; without the runtime's slot,
 * every trip is placed in the heap (the post stays through collections). Constructor
 * context. */
void self_clock_install(void);

/* At a trip (any hook call) on thread t, running domain state ds: advances t's view of the
 * run and of the allocation rate, and places the next trip. `requested`: the call serves
 * the monitor's request (which decides; false is returned, nor is the call counted as the
 * fiber's own trip). true: the running fiber has
 * used its quantum; the caller decides where, then calls self_clock_settle (young_limit
 * can only be raised, so the next trip is placed once the outcome is known). Either way
 * the caller then keeps our post only if self_clock_keeps_post(t). */
bool self_clock_trip(struct thread_record *t, void *ds, bool requested);

/* After a due trip, `preempted` (the run ends; the next starts at the switch) or refused
 * (the same fiber retries): the next trip an eighth of a quantum of allocation later, or,
 * refused because the hook ran from C (`in_c`), at the next OCaml poll, the run handed
 * back to the monitor (request_look_soon). */
void self_clock_settle(struct thread_record *t, void *ds, bool preempted, bool in_c);

/* Does t's next trip need our interrupt posted from now on? */
static inline bool self_clock_keeps_post(const struct thread_record *t)
{
    return t->clock.next_trip == SELF_CLOCK_IN_HEAP;
}

#endif
