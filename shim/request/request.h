/* request: the request stage, deciding that a fiber has used its quantum and interrupting
 * its domain.
 *
 *  - monitor.c: the monitor thread, when to look: it sleeps until the earliest moment a
 *    thread's fiber can become overdue, backs off on quiet threads, is woken by new threads
 *    and by threads leaving a blocking section (base/doorbell.h); its start, its stop at
 *    exit, its restart in a child of fork();
 *  - blocking_hooks.c: the blocking-section hooks, which park quiet threads and wake the
 *    monitor when one leaves;
 *  - overdue.c: the policy, what one look at a thread means (is its fiber overdue, and when
 *    should the monitor look again?), and the request itself (the runtime's own interrupt);
 *  - switch_hook.c: exact fiber-switch counts, which the policy reads.
 * The hook that serves a request is hijack.c.
 */
#ifndef OCPREEMPT_REQUEST_H
#define OCPREEMPT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "thread_registry.h"

/* ---- monitor.c ------------------------------------------------------------------------ */

/* Starts the monitor. 0, or -1 with a one-line reason. Constructor context. */
int request_start(char *why, size_t why_len);

/* At exit: no request is issued after this returns (the monitor stops looking). */
void request_stop(void);

/* The monitor thread's name (/proc/<pid>/task/<tid>/comm; at most 15 characters). */
#define MONITOR_THREAD_NAME "ocpreempt-mon"

/* CPU time the monitor thread has used so far (its own clock, pthread_getcpuclockid), or
 * its final figure once it has ended; 0 if no monitor ran. Any thread but the monitor. */
uint64_t request_monitor_cpu_ns(void);

/* ---- blocking_hooks.c ----------------------------------------------------------------- */

/* Installs the enter/leave blocking-section hooks (base/runtime_hooks.h re-chains them
 * from then on). From request_start. */
void request_install_blocking_hooks(void);

/* Thread t (the caller) runs OCaml again after waiting (a blocking section, or the runtime
 * lock handed over by systhreads): if the monitor backed off on it, wake the monitor. */
void request_thread_resumed(struct thread_record *t);

/* Monitor side: is thread t (pinned) in a blocking section that its leaving will announce?
 * If so it is marked backed_off (its leave wakes the monitor), and need not be looked at
 * until then (but for LOOK_PARKED_NS, a safety net). */
bool request_thread_parked(struct thread_record *t);

/* ---- overdue.c ------------------------------------------------------------------------ */

/* The bounds of the policy (docs/design.md, "The monitor"). */
#define LOOK_BACKOFF_MAX_NS 50000000ull      /* a quiet thread is looked at >= every 50 ms */
#define RUNNING_SLACK_MAX_NS 50000ull      /* a running thread's look: <= min(Q/64, this) late */
#define REQUEST_GRACE_MAX_NS 200000ull     /* next look after a request: Q + min(Q/64, this) */
#define SELF_CLOCK_BACKOFF_QUANTA 8       /* a self-clocked run: looked at >= every 8
                                            quanta, the bound of a fiber that does not
                                            allocate beside it (docs/design.md) */
#define LOOK_PARKED_NS 1000000000ull         /* a parked one (in a blocking section that
                                                announces its end) every 1 s */

/* How much later than due a look at a running thread may come: min(Q/64,
 * RUNNING_SLACK_MAX_NS). The monitor's timer slack is the same (at least 1 us). */
uint64_t overdue_running_slack_ns(void);

/* How far apart the monitor's looks at a self-clocked run may grow: SELF_CLOCK_BACKOFF_QUANTA.
 * A fiber that stops allocating runs at most this + a quantum (+ slacks) unpreempted. */
uint64_t overdue_self_clock_backoff_max_ns(void);

/* One look at thread t (pinned), now: requests a preemption if its fiber has run a whole
 * quantum of CPU time, and sets t->look.next_look_ns / slack_ns. Monitor thread. */
void overdue_look(struct thread_record *t);

/* Asks thread t (pinned, or the caller itself), running domain state ds, to yield at its
 * next safe point, for the fiber `stack` as of switch count `switches`: flags t for the
 * hook and interrupts the domain. The hook drops the request if t has switched since. */
void request_issue(struct thread_record *t, void *ds, void *stack, uint64_t switches);

/* request_issue for whatever fiber thread t (pinned, or the caller itself) runs now, for
 * a rule other than the quantum (e.g. chaos testing). false if t runs no OCaml now. */
bool request_preempt_current(struct thread_record *t);

/* Hook side (the thread's own): is the pending request still for the running fiber? */
bool request_still_due(struct thread_record *t, void *ds);

/* Hook side: a preemption is being injected now. Without the switch hook this is the only
 * switch the monitor can know of exactly, so it is counted as one. */
void request_note_injection(struct thread_record *t);

/* The thread's own self-clocked trip was due but refused because the hook ran from C (a
 * Gc.minor loop): the run no longer clocks itself, and the monitor, maybe backed off for
 * it, is asked to look within a quantum (one ring per such episode: look_soon). */
void request_look_soon(struct thread_record *t);

#endif
