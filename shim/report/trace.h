/* trace: OCPREEMPT_TRACE (formats in docs/trace.md). text (v2): one record per preemption,
 * appended from the interrupt hook (not signal context). chrome: trace_chrome.h, written
 * at exit by trace_close. */
#ifndef OCPREEMPT_TRACE_H
#define OCPREEMPT_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "site_table.h"

/* Opens the trace file if configured. 0, or -1 with a one-line reason. */
int trace_open(char *why, size_t why_len);

/* A preemption being injected now at `site` on `domain`, requested at TSC `request_tsc`;
 * `user_frame`: the return address of the fiber's nearest frame of the program's own code
 * (landing_decide), 0 if none. The latency written is request to injection (the stub runs
 * right after). */
void trace_preemption(int domain, const struct safepoint *site, uintptr_t user_frame,
                      uint64_t request_tsc);
/* At exit: closes the v2 file, or writes the chrome trace. */
void trace_close(void);

#endif
