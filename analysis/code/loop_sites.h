/* loop_sites: which allocation sites are a loop's only safe points, found from the
 * machine code around them (OCPREEMPT_SITES=loop).
 *
 * OCaml 5 puts a poll at a loop's back edge, or at a recursive function's entry, only when
 * some path through it would not allocate (asmcomp/polling.ml): a loop that allocates on
 * every iteration has no poll, and its allocations are then its only safe points. An
 * allocation site is kept ("a loop's only safe point") when it lies
 *  - inside a backward branch's range [target, branch] of its function, or in a function
 *    that calls itself or tail-calls out (recursion), and
 *  - that range (function) has no poll site and no direct call to a function that has one
 *    (such a loop is preemptible there already).
 * The runtime's retries are not loops: the jump back after `call caml_call_realloc_stack`
 * (every function's stack check) or `call caml_call_gc` (an allocation's slow path). Read
 * as loops they kept 472 of 807 allocation sites of a small program (the whole body of any
 * function that neither polls nor calls a function that does); now 264.
 * A function whose code cannot be decoded with certainty (an instruction we do not know,
 * or a site's return address that is not an instruction boundary of the linear decode)
 * keeps all its allocation sites: fairness first when unsure.
 * Shared by the shim (site table at start-up) and the probe. Addresses are link-time.
 * Not detected: loops through indirect calls or mutual non-tail recursion; their
 * allocation sites are not kept (docs/configuration.md says what `loop` gives up).
 */
#ifndef OCPREEMPT_LOOP_SITES_H
#define OCPREEMPT_LOOP_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"

struct loop_query {
    uint64_t retaddr;     /* link-time return address of the site's caml_call_gc call */
    uint8_t kind;         /* SITE_POLL or SITE_ALLOC (frametable.h) */
    bool keep;            /* out: an allocation site to keep in `loop` mode */
};

struct loop_stats {
    size_t functions;     /* functions holding a site */
    size_t undecoded;     /* of which could not be decoded with certainty */
    size_t kept;          /* allocation sites kept */
};

/* Marks q[0..n) (any order). 0, or -1 with err set (out of memory). */
int loop_sites_mark(const struct elf_image *img, struct loop_query *q, size_t n,
                    struct loop_stats *stats, struct analysis_error *err);

#endif
