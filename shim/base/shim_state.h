/* shim_state: whether the shim is active, its configuration, and libc's functions the
 * front handed over: the engine's globals, defined here at the bottom so that every stage
 * reads them without calling up into the engine's start-up (engine/shim_main.c sets them).
 *
 * `shim_active()` is false until the constructor has bound the runtime and installed the
 * hook, and becomes false for good when the shim disables itself. Readable from any
 * context (one relaxed atomic load). shim_config and engine_libc are written once, by
 * ocpreempt_engine_start before shim_enabled is first set, and only read afterwards.
 */
#ifndef OCPREEMPT_SHIM_STATE_H
#define OCPREEMPT_SHIM_STATE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "front_api.h"

extern struct ocpreempt_config shim_config;
extern _Atomic bool shim_enabled;

/* libc's pthread functions, handed over by the front at the engine's start (the engine
 * never looks them up itself: front_api.h). */
extern struct front_libc engine_libc;

static inline bool shim_active(void)
{
    return atomic_load_explicit(&shim_enabled, memory_order_relaxed);
}

/* Turns preemption off for good and says why, once, on stderr. Not for signal context. */
void shim_disable(const char *why);

#endif
