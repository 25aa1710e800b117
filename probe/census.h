/* census: counts of the frame tables of one image, by safe-point kind and code shape.
 *
 * Invariants: every descriptor of every module table is counted exactly once; a poll or
 * allocation site whose return address is outside the executable segments counts as
 * unrecognised and in `outside_code` (a corrupt table: the verdict refuses it, as the shim
 * does, by the shared rule site_shape_in_image); at most
 * CENSUS_EXAMPLES unrecognised sites are kept, in table order.
 */
#ifndef OCPREEMPT_PROBE_CENSUS_H
#define OCPREEMPT_PROBE_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"
#include "frametable.h"
#include "site_shape.h"

#define CENSUS_EXAMPLES 5
#define CENSUS_SHAPES 3                   /* enum site_shape values */

struct census_site {
    uint64_t retaddr;
    enum safepoint_kind kind;
    char function[128];                   /* symbol containing retaddr, "" if none */
    uint8_t code[7];                      /* bytes at retaddr - 5 */
    bool code_readable;
};

struct census {
    size_t modules, descriptors, return_to_c, calls, polls, allocs, with_debuginfo;
    size_t poll_shapes[CENSUS_SHAPES];    /* indexed by enum site_shape */
    size_t alloc_shapes[CENSUS_SHAPES];
    struct census_site examples[CENSUS_EXAMPLES];
    size_t example_count;
    size_t outside_code;                  /* poll/alloc return addresses outside the code */
    uint64_t first_outside;               /* the first of them (link-time) */
};

/* Walks caml_frametable of img. 0, or -1 with err set. */
int census_take(const struct elf_image *img, struct census *out, struct analysis_error *err);

size_t census_recognised(const struct census *c);    /* poll + alloc sites of known shape */
size_t census_safepoints(const struct census *c);    /* poll + alloc sites */

#endif
