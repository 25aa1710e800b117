/* site_table: every preemptible safe point of the executable, and the frame descriptors
 * that keep the GC exact while a preempted fiber is suspended.
 *
 * Built once in the constructor from the in-memory frame tables (caml_frametable), or
 * read in place from the analysis cache's mapped file, then read-only, except
 * `registered`, set once when the shadow frame table has been handed to the runtime
 * (caml_register_frametable, a stop-the-world, from the interrupt hook; a table restored
 * from the cache is written out there first).
 *
 * For each poll/allocation site the table keeps a shadow return address: a unique address
 * in a PROT_NONE mapping (never executed) whose descriptor has the site's frame size and
 * stack slots but no register slots (suspended stacks are scanned without gc_regs). The stub
 * stores it as the interrupted frame's return address while the yield runs. One more
 * descriptor covers the stub's own frame at its call to the yield closure.
 */
#ifndef OCPREEMPT_SITE_TABLE_H
#define OCPREEMPT_SITE_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cache_file.h"
#include "critical_extents.h"
#include "debuginfo.h"
#include "elf_image.h"
#include "exe_memory.h"
#include "frametable.h"
#include "site_shape.h"

enum site_refusal {
    SITE_OK,
    SITE_DENIED,          /* in a module of the deny-list, or inside code inlined from one */
    SITE_BAD_SHAPE,       /* code around it is not what the stub can resume */
    SITE_IN_YIELD,        /* inside the yield function itself */
    SITE_POLICY,          /* an allocation site OCPREEMPT_SITES leaves out */
    SITE_EXTENT,          /* inside code inlined from a critical extent */
};

/* 16 bytes, position-independent: the analysis cache stores the array as it is and a warm
 * start reads it in place from the mapped file (a large binary has 10^5 sites). Addresses
 * are relative to the load bias: site_table_retaddr and site_table_debuginfo make them
 * run-time addresses; a site's shadow return address follows from its index. */
struct safepoint {
    uint32_t retaddr_rel;         /* return address of the caml_call_gc call, minus the bias */
    uint32_t debuginfo_rel;       /* the original descriptor's first debug_info slot; 0: none */
    uint32_t live_mask;           /* gc_regs index bits of live value registers */
    uint16_t alloc_bytes;         /* 0 for a poll */
    uint8_t kind : 4;             /* SITE_POLL or SITE_ALLOC */
    uint8_t refusal : 4;          /* enum site_refusal */
    uint8_t shape;                /* enum site_shape */
};

/* Run-time return address, first debuginfo slot (NULL: none) and shadow return address of
 * a site of the table. Any context. */
uintptr_t site_table_retaddr(const struct safepoint *s);
const uint32_t *site_table_debuginfo(const struct safepoint *s);
uintptr_t site_table_shadow_retaddr(const struct safepoint *s);

struct site_table_counts {
    unsigned long poll, alloc, denied, bad_shape, in_yield, policy;
    /* from the inlining chains (analysis/names/inline_chain.h): sites refused because a denied
     * unit (counted in `denied` too) or a critical extent was inlined there, and
     * allocation sites of units not denied without debuginfo (built without -g: inlining
     * unseen; polls never have debuginfo in 5.3) */
    unsigned long inlined_denied, inlined_extent, no_debuginfo;
};

/* Whether the deny-list (shim_config.deny) covers this unit (not NUL-terminated). */
bool site_table_unit_denied(const char *unit, size_t len);

/* Builds the table (after yield_target_prepare, with the critical extents resolved), and
 * fills inline_frames.h's table from the same walk over every descriptor. 0, or -1 with a
 * one-line reason. */
int site_table_build(const struct elf_image *img, const struct extent_set *extents,
                     char *why, size_t why_len);

/* The safe point whose return address is retaddr, or NULL. Any context. */
const struct safepoint *site_table_find(uintptr_t retaddr);

/* Registers the shadow + stub descriptors with the runtime once. Must run in OCaml context
 * with the domain lock held (the interrupt hook). Returns true once they are registered
 * (by this call or an earlier one); false if another domain is doing it right now (try
 * again at the next request). */
bool site_table_ensure_registered(void);

void site_table_counts(struct site_table_counts *out);

/* The analysis cache (shim/base/cache_store.h): the sites with their verdicts, their hash
 * index, the counts and the shadow descriptors, all position-independent. The restore
 * reads the sites and the index in place (the file stays mapped) after checking every
 * site (code address, kind, refusal, shape, debuginfo inside the image), the counts
 * against the sites, the index (every site once, each reachable from its hash slot, an
 * empty slot left) and every shadow descriptor's length and slots; the shadow table is
 * copied out and given its addresses at the first registration. No image: function names
 * are "?" until site_table_attach_image. 0, or -1 with why. */
void site_table_export(struct cache_builder *b);
int site_table_restore(const struct cache_view *v, const struct exe_memory *m, char *why,
                       size_t why_len);
void site_table_attach_image(const struct elf_image *img);
/* After a cache hit, with stats: lists the calls into C for c_call_table.h. */
void site_table_note_c_calls(const struct elf_image *img);

/* Per-site preemption counter (hook context; relaxed atomics). */
void site_table_count_preemption(const struct safepoint *site);

/* The sites in table order (index < site_table_size()) and how often each was preempted
 * (relaxed read). Any context, after site_table_build. */
size_t site_table_size(void);
const struct safepoint *site_table_site(size_t index);
uint32_t site_table_hits(size_t index);

/* The sites preempted at least once: how many so far, and the table index of the nth
 * (false if that entry is being written right now by a first preemption elsewhere). */
size_t site_table_hit_sites(void);
bool site_table_hit_site(size_t nth, size_t *index);

/* Name of the function containing a run-time address ("?" if unknown) and, if `offset` is
 * not NULL, the address's offset inside it. The first call builds the image's symbol index
 * (allocates): hog_sites_prepare makes that call at start-up whenever stats or a trace
 * will ask, so that later calls (hook, exit) only read. */
const char *site_table_function_name(uintptr_t addr, uintptr_t *offset);

/* The source location the runtime's frame descriptor of return address `retaddr` carries
 * (the call's `function file:line`, code built with -g; with inlining, the function whose
 * machine code it is, not the inlined one), every offset checked against the image. 0, or -1 (no descriptor or no usable debuginfo). Hook or any OCaml context. */
int site_table_call_location(uintptr_t retaddr, struct source_location *out);

#endif
