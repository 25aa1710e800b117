/* stall_stats: see stall_stats.h. Single writer (the monitor), so plain stores; the
 * report reads after request_stop(), whose seq_cst handshake orders them. */
#include "stall_stats.h"

struct stall_function stall_functions[STALL_FUNCTIONS_MAX];
_Atomic uint64_t stall_refused_longest_ns[STATS_COUNTER_COUNT];

size_t stall_function_slot(uintptr_t function, enum stall_entry entry)
{
    if (function == 0)
        return 0;
    for (size_t i = 1; i < STALL_FUNCTIONS_MAX; i++) {
        struct stall_function *f = &stall_functions[i];
        if (f->function == function && f->entry == entry)
            return i;
        if (f->function == 0) {
            f->function = function;
            f->entry = (uint8_t)entry;
            return i;
        }
    }
    return 0;
}

void stall_record(size_t i, uint64_t ns, uint64_t stretch_ns, int new_stretch,
                  uintptr_t caller)
{
    struct stall_function *f = &stall_functions[i < STALL_FUNCTIONS_MAX ? i : 0];
    f->total_ns += ns;
    if (new_stretch)
        f->stretches++;
    if (stretch_ns > f->longest_ns) {
        f->longest_ns = stretch_ns;
        f->caller = caller;
    }
}
