/* stall_stats: time the domain spent where no preemption could help, the analogue of Go's
 * report of goroutines in system calls and cgo: runs that went past their quantum inside
 * C (named by C function when the shim can tell which, request/stall_watch.c), and runs
 * whose requests the hook refused again and again (the longest such stretch per reason).
 *
 * Storage is static; the only writer is the monitor thread (one look at a time), the only
 * reader the exit report (report/stall_report.c), after the monitor stopped. A C function
 * is keyed by its run-time address and how it was entered; past STALL_FUNCTIONS_MAX
 * distinct functions the time goes to the unnamed entry (index 0), never lost.
 */
#ifndef OCPREEMPT_STALL_STATS_H
#define OCPREEMPT_STALL_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

#define STALL_FUNCTIONS_MAX 64

enum stall_entry {
    STALL_UNNAMED,        /* C the shim cannot name: the runtime, or a call it cannot decode */
    STALL_EXTERNAL,       /* an external called through caml_c_call */
    STALL_NOALLOC,        /* a [@@noalloc] external, called directly */
};

struct stall_function {
    uintptr_t function;           /* run-time address of the C function (0: unnamed) */
    uintptr_t caller;             /* return address into its OCaml caller, at the longest */
    uint8_t entry;                /* enum stall_entry */
    uint64_t total_ns;            /* CPU time past the quantum spent in it */
    uint64_t longest_ns;          /* the longest such stretch, in one run */
    unsigned long stretches;      /* runs that went past the quantum in it */
};

extern struct stall_function stall_functions[STALL_FUNCTIONS_MAX];

/* Per refusal reason (an enum stats_counter STAT_skip_*): the longest stretch of CPU time
 * past the quantum during which every request was refused for that reason. */
extern _Atomic uint64_t stall_refused_longest_ns[STATS_COUNTER_COUNT];

/* The slot of (function, entry), claimed if new; slot 0 (unnamed) when function is 0 or
 * the table is full. Monitor thread. */
size_t stall_function_slot(uintptr_t function, enum stall_entry entry);

/* `ns` more CPU time in slot i, in a stretch now `stretch_ns` long (new: the first time
 * this stretch is counted) whose OCaml caller is `caller`. Monitor thread. */
void stall_record(size_t i, uint64_t ns, uint64_t stretch_ns, int new_stretch,
                  uintptr_t caller);

#endif
