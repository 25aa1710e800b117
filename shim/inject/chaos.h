/* chaos: seeded, replayable preemption points for CI stress runs (OCPREEMPT_CHAOS).
 *
 * Chaos mode replaces the *when* of normal mode (a quantum of CPU time, switch detection)
 * by a deterministic clock; the *where* (main fiber, deny entries, extents, mutexes, site
 * policy) is still decided by hijack.c's decide(), unchanged. The clock is the bytes the
 * domain allocates on its minor heap, read at the runtime's own trips through
 * caml_call_gc, which chaos provokes by placing young_limit. Design and costs:
 * docs/design.md, "Chaos mode"; user guide: docs/ci.md.
 *
 * Contexts: chaos_arm_self() runs on any thread, outside signal context (the mutex
 * interposers); chaos_trip() and chaos_settle() run in the interrupt hook, on the
 * domain's own thread with the domain lock held, which is what makes the per-domain state
 * single-owner; chaos_report() at exit.
 */
#ifndef OCPREEMPT_CHAOS_H
#define OCPREEMPT_CHAOS_H

#include <stdbool.h>

#include "shim_state.h"
#include "thread_registry.h"

static inline bool chaos_enabled(void) { return shim_config.chaos; }

/* Makes sure the calling thread's domain (if any) calls the interrupt hook at every trip:
 * sets requested_external_interrupt when it reads 0 (a domain just created) and asks for
 * a first trip at its next safe point. The first call after a domain's creation happens at
 * the same point of its start-up in every run, which is what makes the clock's origin
 * deterministic. Cheap when nothing is to be done (two loads). */
void chaos_arm_self(void);

/* At a trip of an armed domain (interrupt hook, after the previous hook ran). Advances the
 * clock; true when a chaos preemption is due here, which the caller then submits to the
 * where-rules and reports with chaos_settle(). false: nothing to do, the domain is
 * re-armed for its next firing. */
bool chaos_trip(void *ds);

/* The where-rules' answer for a due trip: `allowed` (preempt here), else whether the
 * refusal holds for the whole fiber (`fiber_refused`: main fiber, unhandled yield), where
 * waiting for a later safe point is pointless. Returns true when the caller must inject
 * now: allowed, and not left out by the replay list (OCPREEMPT_CHAOS=SEED:LIST). Re-arms
 * the domain in every case. */
bool chaos_settle(void *ds, bool allowed, bool fiber_refused);

/* At exit: a summary line at info level (or with OCPREEMPT_STATS), and a warning when
 * more than one thread ran OCaml code (the same seed then need not replay). */
void chaos_report(void);

#endif
