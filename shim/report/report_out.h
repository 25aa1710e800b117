/* report_out: the exit reports' text buffer (stats_report.c and the sections it hands the
 * buffer to: fiber_report.c, stall_report.c).
 *
 * Invariants: never allocates (the exit path may find the heap exhausted); never writes
 * past len; the text stays NUL-terminated, and what does not fit is cut, never wrapped.
 */
#ifndef OCPREEMPT_REPORT_OUT_H
#define OCPREEMPT_REPORT_OUT_H

#include <stddef.h>

struct report_out {
    char *buf;
    size_t len;
    size_t used;      /* bytes written so far, < len once anything is written */
};

/* Appends printf-style text, cut at the buffer's end. */
__attribute__((format(printf, 2, 3)))
void report_put(struct report_out *o, const char *fmt, ...);

/* Appends s as a JSON string: quotes, backslashes and control characters escaped. */
void report_json_string(struct report_out *o, const char *s);

#endif
