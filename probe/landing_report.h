/* landing_report: where the shim, with the configuration in the environment
 * (OCPREEMPT_DENY, OCPREEMPT_CRITICAL, read as the shim reads them), would let a
 * preemption land in one executable: the units each deny entry covers, units that only
 * look like a denied library's (with the entry that would deny them), the critical
 * extents each entry resolved to (and the entries that matched nothing), the sites
 * refused because denied or critical code was inlined there (the shim's rule:
 * analysis/names/inline_chain.h), the sites without debuginfo (inlining unseen there), and the
 * share of the program's safe points that can be preempted.
 * Invariants: filled once by landing_report_take, then read-only; lists are cut at
 * LANDING_LIST_MAX entries with the number left out kept.
 */
#ifndef OCPREEMPT_PROBE_LANDING_REPORT_H
#define OCPREEMPT_PROBE_LANDING_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "critical_extents.h"
#include "elf_image.h"
#include "loop_sites.h"

#define LANDING_LIST_MAX 64
#define LANDING_UNIT_MAX 96

struct landing_unit {
    char unit[LANDING_UNIT_MAX];
    char entry[CONFIG_DENY_ENTRY_MAX];    /* the deny entry that covers it / it looks like */
    size_t sites;                         /* poll + allocation sites in the unit */
};

struct landing_report {
    bool ok;
    char error[ANALYSIS_ERR_LEN];
    struct ocpreempt_config config;       /* the deny and critical lists used */
    char config_error[CONFIG_ERR_MAX];    /* environment refused: defaults used instead */
    struct landing_unit denied[LANDING_LIST_MAX];
    size_t denied_count, denied_left_out;
    struct landing_unit lookalikes[LANDING_LIST_MAX];
    size_t lookalike_count, lookalike_left_out;
    struct extent_set extents;            /* entry names point into `config` */
    /* inlined code: per unit whose machine code it is, the function that refused it */
    struct landing_unit inlined[LANDING_LIST_MAX];
    size_t inlined_count, inlined_left_out;
    size_t safepoints, denied_sites, bad_shape_sites, preemptible_sites;
    /* of the sites of units not denied: refused for an inlined denied unit / critical
     * entry; allocation sites without debuginfo (built without -g, or an allocation the
     * compiler made without a location); poll sites, which never carry debuginfo in 5.3:
     * inlining is unseen at both */
    size_t inlined_denied_sites, inlined_extent_sites, no_debuginfo_sites, poll_sites_unjudged;
    /* OCPREEMPT_SITES: preemptible sites in each mode (poll sites; + allocation sites
     * that are a loop's only safe points; + every allocation site) */
    size_t preemptible_poll, preemptible_loop_allocs, preemptible_allocs;
    struct loop_stats loops;              /* functions decoded for `loop` */
};

/* Fills *r for img. Never fails as a whole: r->ok false with r->error set if the frame
 * tables or the symbols could not be read. */
void landing_report_take(const struct elf_image *img, struct landing_report *r);

#endif
