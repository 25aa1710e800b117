/* request: deciding that a fiber has run a whole quantum, and interrupting its domain.
 *
 * Two implementations, selected by OCPREEMPT_REQUEST: `monitor` (monitor.c: one thread,
 * Go's sysmon, samples every registered thread) and `signal` (signal_timer.c: per-thread
 * CPU-time timers whose handler samples its own thread). Both call request_check_thread()
 * (signal_safe.c) on a thread's record at each sample.
 */
#ifndef OCPREEMPT_REQUEST_H
#define OCPREEMPT_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "thread_registry.h"

/* Starts the configured request path. 0, or -1 with a one-line reason. */
int request_start(char *why, size_t why_len);
int monitor_start(char *why, size_t why_len);

/* At exit: no request is issued after this returns (the monitor stops sampling; signal
 * handlers see the shim inactive). */
void request_stop(void);

/* One sample of thread t taken at cpu_ns of its CPU time: if the same fiber has been
 * current for a whole quantum of CPU time, flag t and poison its domain's young_limit.
 * Async-signal-safe. */
void request_check_thread(struct thread_record *t, uint64_t cpu_ns, uint64_t now_ns);

#endif
