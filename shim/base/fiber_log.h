/* fiber_log: per thread, which fiber ran from when, and what the hook did to it; written
 * by the thread itself, read by the monitor (request/fiber_accounts.h), for per-fiber
 * accounting and the chrome trace (issue 19). Off unless stats or a trace are asked for.
 *
 * Two single-producer rings per thread record, plain stores only, no lock:
 *  - `switches`: one entry per counted fiber switch, written by switch_hook.c's
 *    trampoline (a few instructions: the entry at index `switches & (FIBER_SWITCH_LOG - 1)`,
 *    then the record's `switches + 1`, so an entry is complete before the count covers it):
 *    the stack switched to (struct stack_info *), the fiber's unique id (read from that
 *    stack while it is certainly alive) and the TSC;
 *  - `events`: one entry per request the interrupt hook judged (a preemption or a refusal
 *    with its reason), written by the hook, then `events_written + 1`.
 * The reader copies an entry, then re-reads the count: an entry the writer may have
 * overwritten meanwhile (count - index > ring size) is dropped and counted as lost.
 * Naming is on the thread too (fiber stacks are read only there, or through
 * process_vm_readv: fiber_name.h): the monitor asks for one fiber at a time (name_want_*),
 * the hook answers (name_done_*), each side storing the id last.
 *
 * Memory: one MAP_NORESERVE mapping for every record, made at start-up when accounting is
 * on (virtual until a thread writes: ~64 KiB per thread that runs fibers).
 */
#ifndef OCPREEMPT_FIBER_LOG_H
#define OCPREEMPT_FIBER_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIBER_SWITCH_LOG 2048        /* power of two: the trampoline masks the count */
#define FIBER_EVENT_LOG 512

struct fiber_switch {                /* 24 bytes: the trampoline's layout, see switch_hook.c */
    uint64_t stack;                  /* struct stack_info * switched to */
    uint64_t id;                     /* its stack_info.id */
    uint64_t tsc;
};

/* What the hook did with a request: 0 a preemption, else 1 + the refusal's index in the
 * stats counters (stats.h: STAT_skip_*). */
#define FIBER_EVENT_PREEMPTED 0

struct fiber_event {
    uint64_t id;                     /* the fiber's stack id */
    uint64_t tsc;
    uintptr_t site;                  /* return address of the safe point; 0 none */
    uintptr_t name;                  /* the fiber's name (fiber_name.h), 0 unknown */
    uint32_t verdict;                /* FIBER_EVENT_PREEMPTED or 1 + enum stats_counter */
    uint32_t kind;                   /* SITE_POLL / SITE_ALLOC when site != 0 */
};

struct fiber_log {
    struct fiber_switch switches[FIBER_SWITCH_LOG];
    struct fiber_event events[FIBER_EVENT_LOG];
    _Atomic uint64_t events_written;
    /* naming: the monitor stores stack then id; the hook answers name then id */
    _Atomic uint64_t name_want_stack, name_want_id;
    _Atomic uint64_t name_done_name, name_done_id;
    /* owner-private: the last fiber the hook named, and a snapshot buffer */
    uint64_t named_id;
    uintptr_t named_name;
    unsigned char *snapshot;
};

/* Accounting is on (set at start-up, before any thread registers, never cleared). */
extern bool fiber_log_enabled;

/* Maps the logs of `slots` thread records; 0, or -1 (accounting stays off). Start-up. */
int fiber_log_prepare(int slots);

/* The log of record slot `index` (NULL when off). */
struct fiber_log *fiber_log_of_slot(int index);

/* Hook side: the fiber id the monitor asks a name for and has not been answered (0:
 * none). The monitor stores the id before it posts its interrupt. */
static inline uint64_t fiber_log_name_wanted(struct fiber_log *log)
{
    uint64_t id = atomic_load_explicit(&log->name_want_id, memory_order_acquire);
    return id == atomic_load_explicit(&log->name_done_id, memory_order_relaxed) ? 0 : id;
}

/* Hook side: appends an event (plain stores, then the count). */
static inline void fiber_log_event(struct fiber_log *log, const struct fiber_event *e)
{
    uint64_t n = atomic_load_explicit(&log->events_written, memory_order_relaxed);
    log->events[n & (FIBER_EVENT_LOG - 1)] = *e;
    atomic_store_explicit(&log->events_written, n + 1, memory_order_release);
}

#endif
