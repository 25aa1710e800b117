/* inline_chain: the verdict the inlining chains of a frame descriptor give, for code the
 * compiler copied from one unit into another (ocamlopt inlines small functions across
 * units whenever the .cmx is visible; flambda more). Deny-by-unit and the critical extents'
 * code ranges see only the unit whose machine code runs; the descriptor's debuginfo
 * (analysis/runtime/debuginfo.h, debuginfo_chain_each) still names every function on the inlining
 * chain, each item's name an OCaml path whose first component is its compilation unit
 * (`Miou.Mutex.lock`, `Eio__core__Fiber.yield`, `Stdlib__Hashtbl.replace`).
 *
 * Rule: a descriptor is *denied* when any item on any of its chains (an allocation site
 * has one per allocation it combines) names a unit an OCPREEMPT_DENY entry covers
 * (ocaml_unit_coverage, the rule the units themselves are denied by), and *in an extent*
 * when any item is covered by a critical entry (critical_extents_of_defname); the extent
 * wins, as it refuses the whole stack. The unit comes from the name, not from the file
 * name: the name's first component is the compilation unit exactly as in the unit's
 * `caml<Unit>` symbols, while a file name (`fiber.ml`, `lib/core/fiber.ml`) carries
 * neither the library nor dune's wrapping and is shared by several libraries.
 * Code built without -g has no debuginfo: no chain, so inlining there is invisible (the
 * descriptor is judged by its machine code's unit alone, has_debuginfo false).
 * Pure functions over the image; used at start-up by the shim and by the probe.
 */
#ifndef OCPREEMPT_INLINE_CHAIN_H
#define OCPREEMPT_INLINE_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "critical_extents.h"
#include "elf_image.h"
#include "frametable.h"

/* The verdict of each name already judged, keyed by the name's address in the image
 * (the compiler emits one record per function, file and location, which many descriptors
 * share): the judging of a large program's chains costs a few ms instead of tens. */
#define CHAIN_MEMO_SLOTS 4096
struct chain_memo {
    const char *name[CHAIN_MEMO_SLOTS];
    uint8_t verdict[CHAIN_MEMO_SLOTS];   /* enum chain_verdict */
};

struct chain_policy {
    const char *const *deny;          /* OCPREEMPT_DENY entries */
    size_t deny_count;
    const struct extent_set *extents; /* resolved critical entries */
    struct chain_memo *memo;          /* zeroed by the caller before the first use; or NULL */
};

enum chain_verdict {
    CHAIN_PLAIN,                      /* no item denied or critical (or no debuginfo) */
    CHAIN_DENIED,                     /* an item of a denied unit */
    CHAIN_EXTENT,                     /* an item a critical entry covers */
};

struct chain_finding {
    enum chain_verdict verdict;
    bool has_debuginfo;               /* at least one item decoded */
    bool malformed;                   /* a chain that failed its bounds checks (its items
                                         before the failure were judged) */
    const char *defname;              /* the item that decided (NULL for CHAIN_PLAIN) */
};

/* Judges the chains of descriptor d, whose first debug_info slot lies at link-time
 * address `debug_info_link` (slots are 4 bytes apart). */
void inline_chain_judge(const struct elf_image *img, const struct frame_descr_view *d,
                        uint64_t debug_info_link, const struct chain_policy *policy,
                        struct chain_finding *out);

#endif
