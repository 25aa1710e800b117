/* yield_report: which yield function would ocpreempt call in this program? Shared by the
 * probe (which reports it) and the shim (which auto-detects with it).
 *
 * With a requested path (--yield M.fn): its candidates, or near matches when there are
 * none. Without: the well-known schedulers' yields present (ocaml_known_yields) and plain
 * toplevel `yield` functions of other modules. Invariants: a "toplevel" yield is one whose
 * static closure is a field of its module block; Thread.yield (systhreads, not a fiber
 * yield) and Stdlib modules are never proposed.
 */
#ifndef OCPREEMPT_YIELD_REPORT_H
#define OCPREEMPT_YIELD_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "elf_image.h"
#include "ocaml_names.h"

#define YIELD_MAX_CANDIDATES 8
#define YIELD_MAX_NEAR 10
#define YIELD_MAX_LISTED 8

struct yield_match {
    char path[OCAML_SYMBOL_MAX];                        /* "Eio.Fiber.yield" */
    struct yield_candidate candidates[YIELD_MAX_CANDIDATES];
    size_t count;                                       /* found; may exceed the array */
};

struct yield_report {
    bool requested;
    struct yield_match request;
    char error[ANALYSIS_ERR_LEN];                       /* malformed request, else "" */
    char near[YIELD_MAX_NEAR][OCAML_SYMBOL_MAX];        /* "Other.yield (camlOther.yield_12)" */
    size_t near_count;
    struct yield_match known[YIELD_MAX_LISTED];
    size_t known_count;
    struct yield_match toplevel[YIELD_MAX_LISTED];
    size_t toplevel_count;
};

/* requested may be NULL. Never fails: problems are recorded in the report. */
void yield_report_fill(const struct elf_image *img, const char *requested,
                       struct yield_report *out);

/* Candidates a report's verdict may rely on: resolved request, or detected schedulers. */
size_t yield_report_resolved(const struct yield_report *r);

/* The yield ocpreempt will call, the one rule shared by the probe's verdict and the shim:
 * the requested path if it was found; else the only well-known scheduler's yield present;
 * else the program's only toplevel `yield`. NULL when there is no such single choice, with
 * a one-line reason in `why`. */
const char *yield_report_choice(const struct yield_report *r, char *why, size_t why_len);

#endif
