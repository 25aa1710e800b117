/* fiber_accounts: per-fiber accounting (issue 19), from the threads' fiber logs
 * (base/fiber_log.h), on the monitor thread.
 *
 * A *run* is the time from a counted switch to a fiber (caml_runstack, or caml_resume of
 * another fiber) to the thread's next counted switch, in TSC ticks: wall time, which
 * includes the scheduler's own work after the fiber suspended until it starts another
 * (caml_perform is not hooked) and a fiber's time blocked in a system call. A fiber that
 * returns to its parent is not a switch either: its run lasts until the next one.
 * Each fiber (stack id) has an account: runs, total and longest run, preemptions, and
 * refusals by reason; fibers with the same name (fiber_name.h) form a group, with a
 * count. Names come from the interrupt hook: with each judged request, and on the
 * monitor's demand (one fiber per thread at a time: the hook copies the fiber's stack).
 *
 * Storage: static tables, FIBER_ACCOUNTS_MAX fibers (the fibers beyond are counted in one
 * "untracked" group) and FIBER_GROUPS_MAX names; with the chrome trace, a preallocated
 * record buffer (fiber_trace_*). The report reads them at exit: nothing allocates then.
 * Writers: the monitor (fiber_accounts_drain, with the record pinned) and, after the
 * monitor stopped, the exiting thread (fiber_accounts_finish).
 */
#ifndef OCPREEMPT_FIBER_ACCOUNTS_H
#define OCPREEMPT_FIBER_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "thread_registry.h"

#define FIBER_ACCOUNTS_MAX 8192
#define FIBER_GROUPS_MAX 256
/* refusals by reason: one slot per stats counter skip_main_fiber .. skip_switched */
#define FIBER_REFUSAL_FIRST STAT_skip_main_fiber
#define FIBER_REFUSAL_KINDS (STAT_skip_switched - STAT_skip_main_fiber + 1)

/* Group 0 holds the fibers not (yet) named, group 1 the untracked ones. */
#define FIBER_GROUP_UNNAMED 0
#define FIBER_GROUP_UNTRACKED 1

struct fiber_tally {
    unsigned long runs, preemptions, refusals;
    uint64_t total_ticks, longest_ticks;
    unsigned long refused[FIBER_REFUSAL_KINDS];
};

struct fiber_group {
    uintptr_t name;                /* fiber_name.h; 0 for the two special groups */
    unsigned long fibers;
    struct fiber_tally tally;
};

/* Start-up: `trace_records` > 0 also keeps that many trace records for the chrome trace.
 * 0, or -1 (no memory: the trace keeps none). */
int fiber_accounts_prepare(size_t trace_records);

/* Monitor: consumes thread t's log (t pinned; its record slot `slot`), asks its hook for
 * a name when a fiber seen has none. */
void fiber_accounts_drain(struct thread_record *t, int slot);

/* Monitor: the same for an EXITED record (its thread exited; pinned by
 * thread_record_pin_exited, no TLS read, no name asked): what it logged since the last
 * drain, or all of it if the monitor never saw the thread live. */
void fiber_accounts_drain_exited(struct thread_record *t, int slot);

/* In the child of fork(), after thread_registry_after_fork: the parent's accounts, trace
 * records and readers describe the parent's history, not this process's; all is cleared,
 * and the forking thread's log is read from where it stands now. */
void fiber_accounts_after_fork(void);

/* Monitor, once per pass: the chrome trace's counter of the monitor's wakes. */
void fiber_accounts_note_wake(unsigned long wakes);

/* Exit, after request_stop: consumes what is left of every log and ends the runs still
 * open. Idempotent. */
void fiber_accounts_finish(void);

/* Exit: the groups, in table order (read-only; *count set). Group 0's longest run is
 * recomputed over its fibers here. */
const struct fiber_group *fiber_accounts_groups(size_t *count);

/* Exit: the name of fiber `id` (0 unnamed or untracked). Read-only. */
uintptr_t fiber_accounts_name_of(uint64_t id);

/* Exit: runs lost to a log overrun (the monitor did not drain in time), fibers beyond
 * the table, and names the hooks could not give. */
struct fiber_accounts_losses {
    unsigned long runs_lost, events_lost, fibers_untracked;
    unsigned long threads_unread;  /* exited threads whose record was reused unread */
};
void fiber_accounts_losses(struct fiber_accounts_losses *out);

/* ---- the chrome trace's records (report/trace_chrome.c writes them at exit) ---------- */

enum fiber_trace_type { FT_SLICE, FT_INSTANT, FT_COUNTER, FT_THREAD };

struct fiber_trace_record {
    uint64_t t0, t1;               /* TSC: slice start/end; instant and counter: t0 */
    uintptr_t site;                /* instant: the safe point (0 none) */
    uintptr_t name;                /* slice and instant: the fiber's name (0 unnamed);
                                      counter: the value */
    uint64_t fiber;                /* slice and instant: the fiber's stack id */
    int32_t tid;                   /* the thread (track) */
    int32_t domain;                /* FT_THREAD: its domain id (-1 unknown) */
    uint32_t verdict;              /* instant: fiber_log.h's FIBER_EVENT_* encoding */
    uint32_t kind;                 /* instant: SITE_POLL or SITE_ALLOC */
    uint32_t type;                 /* enum fiber_trace_type */
};

/* Exit: the records kept, and how many did not fit. */
const struct fiber_trace_record *fiber_trace_records(size_t *count, unsigned long *dropped);

#endif
