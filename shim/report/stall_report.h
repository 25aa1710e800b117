/* stall_report: the stats report's section "time where no preemption could help"
 * (base/stall_stats.h), in text and in JSON, for stats_report.c.
 *
 * Invariant: at exit it only formats into the caller's buffer; names come from the ELF
 * symbol index built at start-up (site_table_function_name): nothing allocates or parses.
 */
#ifndef OCPREEMPT_STALL_REPORT_H
#define OCPREEMPT_STALL_REPORT_H

#include <stddef.h>

#include "report_out.h"

/* Appends the section to buf[*used..len): text lines, each starting "ocpreempt: ", or
 * (json) a `"no_preemption_could_help":{...}` member. */
void stall_report_text(struct report_out *o);
void stall_report_json(struct report_out *o);

#endif
