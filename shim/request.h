/* request: deciding that a fiber has run a whole quantum, and interrupting its domain.
 *
 * Two implementations, selected by OCPREEMPT_REQUEST: `monitor` (monitor.c: one thread,
 * Go's sysmon, samples every registered thread) and `signal` (signal_timer.c: per-thread
 * CPU-time timers whose handler does the same check in signal context). Both call
 * request_check_thread() on a thread's record at each sample.
 */
#ifndef OCPREEMPT_REQUEST_H
#define OCPREEMPT_REQUEST_H

#include <stdint.h>

#include "thread_registry.h"

/* Starts the configured request path. 0, or -1 with a one-line reason. */
int request_start(char *why, size_t why_len);

/* One sample of thread t taken at cpu_ns of its CPU time: if the same fiber has been
 * current for a whole quantum of CPU time, flag t and poison its domain's young_limit.
 * Plain loads and stores and lock-free atomics only: callable from a signal handler. */
void request_check_thread(struct thread_record *t, uint64_t cpu_ns, uint64_t now_ns);

#endif
