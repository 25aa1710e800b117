/* fiber_report: the stats report's per-fiber section (issue 19): the top fiber groups by
 * longest run, with runs, total run time, preemptions and refusals by reason
 * (request/fiber_accounts.h), each named `Module.fn file.ml:line`: the function that
 * started them (landing/fiber_name.h) and the DWARF line of its entry.
 *
 * Invariant (as hog_sites.h): names are prepared at start-up, when stats or a trace are
 * asked for (fiber_report_prepare: every OCaml function symbol of the executable, with its
 * line); at exit the report only looks them up and formats into the caller's buffer.
 */
#ifndef OCPREEMPT_FIBER_REPORT_H
#define OCPREEMPT_FIBER_REPORT_H

#include <stddef.h>

#include "report_out.h"
#include <stdint.h>

#include "elf_image.h"

/* Start-up: the name table. Best effort (a function it cannot name is "?"). */
void fiber_report_prepare(const struct elf_image *img);

/* A fiber name (fiber_name.h) as "Module.fn" and "file.ml:line" ("?" unknown). Read-only:
 * exit, or any thread once prepared. */
void fiber_report_name(uintptr_t name, const char **function, const char **location);

/* The reason of a fiber_log.h verdict: "none" for a preemption, else the refusal's stats
 * counter without its "skip_" prefix ("mutex", "extent"...). */
const char *fiber_report_refusal_name(uint32_t verdict);

/* Appends the section to buf[0, len) at *used (text: lines "ocpreempt: ..."; json: a
 * member `,"fibers":[...],"fiber_accounting":{...}` for the stats object). At exit. */
void fiber_report_text(struct report_out *o);
void fiber_report_json(struct report_out *o);

#endif
