/* shim_state: whether the shim is active, and its configuration.
 *
 * `shim_active()` is false until the constructor has bound the runtime and installed the
 * hook, and becomes false for good when the shim disables itself. Readable from any
 * context (one relaxed atomic load).
 */
#ifndef OCPREEMPT_SHIM_STATE_H
#define OCPREEMPT_SHIM_STATE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"

extern struct ocpreempt_config shim_config;
extern _Atomic bool shim_enabled;

static inline bool shim_active(void)
{
    return atomic_load_explicit(&shim_enabled, memory_order_relaxed);
}

/* Turns preemption off for good and says why, once, on stderr. Not for signal context. */
void shim_disable(const char *why);

#endif
