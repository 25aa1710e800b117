/* request: the request stage, deciding that a fiber has run a whole quantum and
 * interrupting its domain.
 *
 *  - monitor.c: one thread (Go's sysmon) that looks at every registered thread, its
 *    start, its stop at exit and its restart in a child of fork();
 *  - overdue.c: the policy, what a look at one thread means (is its fiber overdue?), and
 *    the request itself (the runtime's own interrupt).
 * The hook that serves a request is hijack.c.
 */
#ifndef OCPREEMPT_REQUEST_H
#define OCPREEMPT_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "thread_registry.h"

/* Starts the monitor. 0, or -1 with a one-line reason. Constructor context. */
int request_start(char *why, size_t why_len);

/* At exit: no request is issued after this returns (the monitor stops looking). */
void request_stop(void);

/* One look at thread t, whose CPU clock reads cpu_ns: if the same fiber has been current
 * for a whole quantum of CPU time, request a preemption. Monitor thread. */
void request_check_thread(struct thread_record *t, uint64_t cpu_ns);

/* Asks thread t, running domain state ds, to yield at its next safe point: flags t for
 * the hook and interrupts the domain. Any thread but t's own. */
void request_issue(struct thread_record *t, void *ds);

#endif
