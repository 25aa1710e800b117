/* trace: per-preemption records (OCPREEMPT_TRACE) and the latency figures for stats.
 * Called from the interrupt hook only (not signal context). */
#ifndef OCPREEMPT_TRACE_H
#define OCPREEMPT_TRACE_H

#include "site_table.h"
#include "thread_registry.h"

/* Opens the trace file if configured. 0, or -1 with a one-line reason. */
int trace_open(char *why, size_t why_len);
void trace_preemption(struct thread_record *t, const struct safepoint *site);
void trace_close(void);

/* Request-to-injection latency: count, max and sum in nanoseconds. */
void trace_latency(unsigned long *count, unsigned long *max_ns, unsigned long *sum_ns);

#endif
