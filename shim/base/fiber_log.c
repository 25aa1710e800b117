/* fiber_log: see fiber_log.h. */
#define _GNU_SOURCE
#include "fiber_log.h"

#include <sys/mman.h>

_Static_assert(sizeof(struct fiber_switch) == 24, "the trampoline writes 24-byte entries");
_Static_assert((FIBER_SWITCH_LOG & (FIBER_SWITCH_LOG - 1)) == 0, "a power of two");
_Static_assert((FIBER_EVENT_LOG & (FIBER_EVENT_LOG - 1)) == 0, "a power of two");

bool fiber_log_enabled;
static struct fiber_log *logs;
static int log_count;

int fiber_log_prepare(int slots)
{
    void *p = mmap(NULL, sizeof(struct fiber_log) * (size_t)slots,
                   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    logs = p;
    log_count = slots;
    fiber_log_enabled = true;
    return 0;
}

struct fiber_log *fiber_log_of_slot(int index)
{
    return logs && index >= 0 && index < log_count ? &logs[index] : NULL;
}
