/* trace_chrome: the trace in Chrome's trace-event JSON (OCPREEMPT_TRACE_FORMAT=chrome),
 * which Perfetto and chrome://tracing open (format in docs/trace.md): a track per thread
 * (thread_name metadata naming its domain), a complete event ("X") per fiber run named as
 * the per-fiber accounting names fibers, an instant ("i") per preemption and refusal (site
 * and reason in args), a counter ("C") of the monitor's wakes.
 *
 * Invariants: nothing is recorded here while the program runs: the hook only stores into
 * its thread's log (base/fiber_log.h) and the monitor keeps the records
 * (request/fiber_accounts.h); this file is written once, at exit, from those records,
 * sorted by track and time in place (no allocation: a heap sort), through a static
 * buffer. One file per process: PATH with ".<pid>" inserted before a ".json" suffix
 * (else appended), opened (and truncated: the file is this process's alone) at start-up so
 * that a bad path is said at once; a child of fork() opens its own at its exit.
 */
#ifndef OCPREEMPT_TRACE_CHROME_H
#define OCPREEMPT_TRACE_CHROME_H

#include <stddef.h>

/* Start-up: opens this process's file for `path`. 0, or -1 with a one-line reason. */
int trace_chrome_open(const char *path, char *why, size_t why_len);

/* Exit: writes the trace and closes the file. */
void trace_chrome_write(void);

#endif
