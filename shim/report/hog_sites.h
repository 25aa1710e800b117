/* hog_sites: the stats report's most preempted safe points ("top hog sites"), with names
 * resolved at start-up.
 *
 * Invariant: the exit path (hog_sites_top, called from the at-exit report) only reads
 * counters and storage filled at start-up. It never allocates, opens a file or parses ELF
 * or DWARF: at exit the heap may be exhausted (the program caught Out_of_memory) and, with
 * OCAMLRUNPARAM=c=1, other domains may still run while the runtime tears itself down, so
 * the report must be short and self-contained.
 *
 * hog_sites_prepare (constructor, only when stats or a trace are asked for) therefore
 * builds the ELF symbol index (function names of poll sites, also used by the trace from
 * the interrupt hook) and, for stats, the DWARF line of every poll site that has no
 * debuginfo of its own (OCaml records none for polls). Allocation sites carry their own
 * debuginfo in the frame table, decoded from memory at exit.
 */
#ifndef OCPREEMPT_HOG_SITES_H
#define OCPREEMPT_HOG_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"

/* Resolves names once the site table is built. `lines`: also the DWARF lines of the
 * polls (for the stats report). Best effort: a site it could not name is reported as
 * "?"; never fails the shim. */
void hog_sites_prepare(const struct elf_image *img, bool lines);

struct site_report {
    unsigned long count;
    int kind;                     /* SITE_POLL or SITE_ALLOC */
    const char *function;         /* OCaml name from debuginfo, else the symbol */
    char location[160];           /* "file.ml:42", or "?" without debuginfo and DWARF */
};

/* The site whose caml_call_gc return address is `retaddr`, described as hog_sites_top
 * does ("?" when it is no site). At-exit context: reads only. */
void hog_sites_describe(uintptr_t retaddr, struct site_report *out);

/* The `max` most preempted sites, most first. At-exit context: reads only. */
size_t hog_sites_top(struct site_report *out, size_t max);

#endif
