/* self_clock: a fiber that allocates checks its own deadline (OCPREEMPT_SELF_CLOCK=1).
 *
 * The *when* of normal mode, moved onto the fiber's own thread where it can be: chaos
 * mode's mechanism (young_limit placed so that the domain trips after a chosen amount of
 * allocation, requested_external_interrupt kept at SHIM_INTERRUPT so that every trip
 * reaches the interrupt hook), with a deadline instead of a seeded schedule. At each trip
 * the hook reads the TSC and compares the running fiber's run with the quantum; over (and
 * over in the thread's CPU time too, read only then): the caller submits the trip to the
 * where-rules like a monitor request; under: the next trip
 * is placed where the fiber's allocation rate says its deadline (or half a quantum, if
 * sooner) will be. The monitor backs off while a thread's running fiber trips this way
 * (request/overdue.c). Design, clock and bounds: docs/design.md, "Self-clocking".
 *
 * Contexts: the interrupt hook only, on the domain's own thread holding its lock; state is
 * the thread record's owner-private `clock` (thread_registry.h). Off in chaos mode, which
 * owns young_limit then.
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

/* At a trip (any hook call) on thread t, running domain state ds: keeps the hook called at
 * every trip, advances t's view of the run and of the allocation rate, and places the
 * next trip. true: the running fiber has used its quantum; the caller decides where, then
 * calls self_clock_settle (young_limit can only be raised, so the next trip is placed
 * once the outcome is known). */
bool self_clock_trip(struct thread_record *t, void *ds);

/* After a due trip, `preempted` (the next fiber's run starts now) or refused (the same
 * fiber retries): the next trip an eighth of a quantum of allocation later. */
void self_clock_settle(struct thread_record *t, void *ds, bool preempted);

#endif
