/* inline_frames: the return addresses whose inlining chain (analysis/names/inline_chain.h) holds
 * a critical extent or a deny-listed unit although the code around them belongs to
 * neither: a call made from scheduler or critical code the compiler inlined into another
 * unit. landing.c's frame_class consults it for every frame of a walk, so a call from an
 * inlined `Hashtbl.replace` (or an OCPREEMPT_CRITICAL function) keeps the whole call
 * refused, as it would be had the code not been inlined.
 * Filled once at start-up by site_table_build (which walks every descriptor), sealed, then
 * read-only: any thread may ask. Addresses are run-time. A pure function of pc, as
 * fiber_walk's memo requires.
 */
#ifndef OCPREEMPT_INLINE_FRAMES_H
#define OCPREEMPT_INLINE_FRAMES_H

#include <stddef.h>
#include <stdint.h>

enum inline_frame {
    INLINE_FRAME_PLAIN,               /* not in the table */
    INLINE_FRAME_DENIED,              /* a denied unit on the chain */
    INLINE_FRAME_EXTENT,              /* a critical entry on the chain */
};

/* Start-up only. 0, or -1 (out of memory). */
int inline_frames_add(uintptr_t retaddr, enum inline_frame kind);
/* Empties the table (a build after a refused cache record). */
void inline_frames_clear(void);
/* Sorts the table; after this only inline_frames_of. */
void inline_frames_seal(void);

enum inline_frame inline_frames_of(uintptr_t retaddr);
size_t inline_frames_count(void);

/* The analysis cache (shim/base/cache_store.h): the sealed table, addresses relative to
 * the load bias; restored only if sorted, inside the executable's code, kinds known. */
struct cache_builder;
struct cache_view;
struct exe_memory;
void inline_frames_export(struct cache_builder *b, uintptr_t bias);
int inline_frames_restore(const struct cache_view *v, const struct exe_memory *m);

#endif
