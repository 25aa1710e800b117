/* fiber_walk: the running fiber's frames, innermost first, down to its base, each given to
 * a classifier; for landing.c, which refuses a preemption while any frame belongs to a
 * critical extent.
 *
 * Cost: a walk looks each return address up once in a per-thread memo (frame size and
 * class; descriptors of an address never change), and a fiber found clean to its base
 * leaves per-thread *checkpoints*: a few frames at geometric distances from the top
 * (4, 8, 16, ... frames), each recorded with its offset from the stack's top end and its
 * first words (return address, spill slots). The next walk of that fiber stops at the
 * first checkpoint it reaches whose recorded words, and those of every older checkpoint,
 * are still in place: the frames beyond were found clean and are taken to be the same
 * frames. So a 100k-frame recursion costs the frames pushed or popped since the last
 * decision, not 100k lookups.
 * Limit (docs/design.md): a checkpoint matches by content, not by identity. Frames that
 * were popped and re-pushed with identical contents at every checkpoint, with an extent
 * frame inserted between two checkpoints, would go unseen; a GC that moves a spilled
 * value, a stack reallocation (trap links rewritten) or any other change makes the walk
 * go on instead (never less safe than a full walk, only slower).
 * Context: the interrupt hook, on the fiber's own thread; per-thread state only (a heap
 * block per thread, allocated at its first walk: the engine's static TLS is tiny).
 */
#ifndef OCPREEMPT_FIBER_WALK_H
#define OCPREEMPT_FIBER_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum walk_result {
    WALK_CLEAN,           /* every frame classified 0, down to the fiber's base */
    WALK_HIT,             /* a frame classified non-zero: `hit` holds the class */
    WALK_CALLBACK,        /* a C-to-OCaml callback boundary before the base */
    WALK_UNWALKABLE,      /* a return address without descriptor, or a frame past the top */
};

/* Class of the code at run-time address pc: its low bits (FRAME_STOP_MASK) 0 for ordinary
 * code, anything else stops the walk; plus the owner attributes below. Must be a pure
 * function of pc (the memo keeps its answer). */
#define FRAME_STOP_MASK 0x3F
#define FRAME_TRANSPARENT 0x80    /* Stdlib or glue: the owner is the nearest caller that is not */
#define FRAME_DENIED 0x40         /* code of a deny-listed unit (code_owner.h) */
typedef uint8_t (*frame_classifier)(uintptr_t pc);

struct walk_outcome {
    enum walk_result result;
    uint8_t hit;          /* the stop class (attributes masked off) */
    bool owner_denied;    /* the first frame from the top that is not FRAME_TRANSPARENT is
                             FRAME_DENIED (walks past a clean checkpoint until it is known) */
    size_t frames;        /* frames looked at */
    bool from_checkpoint; /* the base part was known clean */
};

/* Walks the fiber whose stack_info is at `stack` (the current stack of this thread's
 * domain, stopped in caml_call_gc). `fiber` is its stack_info.id. */
void fiber_walk(uintptr_t stack, int64_t fiber, frame_classifier classify,
                struct walk_outcome *out);

#endif
