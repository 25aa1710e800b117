/* stats_report: the statistics report (base/stats.h's counters, hog_sites.h's top sites),
 * printed once at exit when OCPREEMPT_STATS is set; its format, the contract the tests
 * parse, is described in stats.h.
 *
 * Invariant: at exit it formats into static storage faulted in at start-up and writes, and
 * allocates, opens (but the OCPREEMPT_STATS file) and parses nothing: the heap may be
 * exhausted and the runtime half torn down.
 */
#ifndef OCPREEMPT_STATS_REPORT_H
#define OCPREEMPT_STATS_REPORT_H

/* Faults in the report's static storage (start-up, when stats are on). */
void stats_prepare(void);

/* Prints the report to the configured destination. At-exit context. */
void stats_report(void);

#endif
