/* yield_report: which yield function would ocpreempt call in this program? The one rule,
 * shared by the probe (which reports it, and whose verdict --strict obeys) and the shim
 * (which calls what it decides).
 *
 * With a requested path (--yield M.fn): its candidates, or near matches when there are
 * none. Without: the well-known schedulers' yields present (ocaml_known_yields) and plain
 * toplevel `yield` functions of other modules. Invariants:
 *  - a candidate is chosen only if it sits where the path says: a field of its unit's
 *    module block at the path's submodule depth (Miou.yield: depth 0, not Miou.Event.yield
 *    at depth 1), or it is named by its exact stamped symbol; two that fit are ambiguous
 *    and reported with a name for each, never picked;
 *  - a function merely named `yield` is never chosen unasked (its type is unknown: a
 *    generator's `yield : 'a -> unit` called with () corrupts the program); it is only
 *    suggested;
 *  - a re-export (`let yield = Other.yield`: a field holding another unit's closure) is
 *    chosen only where its library documents it (ocaml_documented_reexports: Moonpool.yield
 *    is Picos.Fiber.yield) and the unit's block holds that very closure: the binary does not
 *    record field names, so any other copied field at the path's depth may be under any
 *    name (`let yield = Sched.pause let resume = Sched.yield`) and the request is refused,
 *    naming the function itself; beside a function of the unit's own it is ambiguous;
 *  - every name suggested (near matches, toplevel yields) resolves by this rule to the
 *    function it is suggested for: a known scheduler's path, Unit.fn, or the exact name;
 *  - Thread.yield (systhreads, not a fiber yield) and Stdlib modules are never proposed.
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
    char copy_name[OCAML_SYMBOL_MAX];                   /* a requested path's first copied
                                                           field: a name resolving to the
                                                           function it holds, or "" */
};

struct yield_report {
    bool requested;
    struct yield_match request;
    char error[ANALYSIS_ERR_LEN];                       /* malformed request, else "" */
    char near[YIELD_MAX_NEAR][OCAML_SYMBOL_MAX];        /* "Other.yield (camlOther.yield_12)":
                                                           a name that resolves to it */
    size_t near_count;
    struct yield_match known[YIELD_MAX_LISTED];
    size_t known_count;
    struct yield_match toplevel[YIELD_MAX_LISTED];
    size_t toplevel_count;
};

/* requested may be NULL. Never fails: problems are recorded in the report. */
void yield_report_fill(const struct elf_image *img, const char *requested,
                       struct yield_report *out);

/* The yield ocpreempt will call: the requested path's one fitting candidate; without a
 * request, the one well-known scheduler's yield present. NULL when there is no such single
 * choice, with a one-line reason in `why` (naming each candidate when several fit, and
 * suggesting a toplevel `yield` when no scheduler is known). *path gets the path chosen. */
const struct yield_candidate *yield_report_choice(const struct yield_report *r,
                                                  const char **path, char *why,
                                                  size_t why_len);

/* Nothing was requested and no known scheduler is present: the process has nothing the
 * shim may preempt on its own (it stays silent at the default log level). */
bool yield_report_nothing_known(const struct yield_report *r);

/* Where a candidate sits, for reports: "toplevel", "in a submodule", ... */
void yield_candidate_place(const struct yield_candidate *c, char *buf, size_t len);

/* The exact name of one candidate, Unit.fn_<stamp> (valid as OCPREEMPT_YIELD). */
void yield_candidate_stamped_name(const struct yield_candidate *c, char *buf, size_t len);

#endif
