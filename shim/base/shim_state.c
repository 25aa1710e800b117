/* shim_state: see shim_state.h. */
#include "shim_state.h"

#include "log.h"

struct ocpreempt_config shim_config;
_Atomic bool shim_enabled;
struct front_libc engine_libc;

void shim_disable(const char *why)
{
    bool was = atomic_exchange(&shim_enabled, false);
    if (was || why)
        log_error("disabled: %s", why ? why : "(no reason given)");
}
