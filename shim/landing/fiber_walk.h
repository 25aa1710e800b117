/* fiber_walk: the running fiber's frames, innermost first, down to its base, each given to
 * a classifier; for landing.c, which refuses a preemption while any frame belongs to a
 * critical extent, and judges transparent code by its nearest caller.
 *
 * Exactness: every walk visits every frame, from current_stack->sp to the fiber's base,
 * and reads every return address from the stack as it is now. The only thing remembered
 * between walks is a per-thread memo keyed by return address: the frame size and class
 * of a return address. Both are pure functions of the address (frame descriptors of
 * loaded code never change, and the classifier must be pure), so a memo hit returns what
 * the lookup would: the outcome equals that of a walk without memo, for every stack. The
 * earlier content-matched checkpoints (a suffix of the stack taken to be unchanged when a
 * few of its words were) were wrong for recursion that lays identical words at every
 * depth (issue 15) and are gone. fiber_walk_reference is that walk without memo, a
 * separate, plain loop: OCPREEMPT_VERIFY=1 runs it beside every decision.
 * Cost: one memo lookup per frame (docs/benchmarks.md, "Decision cost against stack
 * depth"): a few ns per frame, about 0.1-0.3 ms for a 100k-frame recursion.
 * Context: the interrupt hook, on the fiber's own thread (domain lock held: the stack does
 * not move under the walk); per-thread state only (a heap block per thread, allocated at
 * its first walk: the engine's static TLS is tiny).
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

/* What the owner search found: the first frame from the top that is not FRAME_TRANSPARENT
 * (walks that stop early, at a hit, may not have reached it). */
enum walk_owner {
    WALK_OWNER_UNSEEN,         /* every frame walked was transparent */
    WALK_OWNER_PLAIN,
    WALK_OWNER_DENIED,
};

struct walk_outcome {
    enum walk_result result;
    uint8_t hit;          /* the stop class (attributes masked off) */
    enum walk_owner owner;
    uintptr_t owner_pc;   /* the return address of that first frame (0: unseen), the
                             nearest frame of the program's own code when PLAIN */
    size_t frames;        /* frames looked at */
};

/* Walks the fiber whose stack_info is at `stack` (the current stack of this thread's
 * domain, stopped in caml_call_gc). */
void fiber_walk(uintptr_t stack, frame_classifier classify, struct walk_outcome *out);

/* The same walk without memo: every descriptor looked up, every frame classified anew.
 * Same outcome as fiber_walk, by the argument above; for the checking mode. */
void fiber_walk_reference(uintptr_t stack, frame_classifier classify,
                          struct walk_outcome *out);

/* Frame arithmetic shared with fiber_starter.c (amd64, 5.x). */
#define STACK_HEADER_SIZE 32      /* Stack_header_size: between a base frame and Stack_high */
#define FRAME_SIZE_MASK 0xFFFCu   /* frame data without its debuginfo/allocation flags */

/* For fiber_starter.c, which walks the parent stacks: the frame data (size | flags) of
 * the descriptor of return address pc, or false if the runtime has none. No memo. */
bool fiber_frame_data(uintptr_t pc, uint16_t *frame_data);

/* For the walks without a memo (fiber_starter.c, fiber_name.c): the return address and
 * frame data of the frame at sp, of frames laid out in [sp, high) (a live stack or a
 * copy: only the return address is read from it). false past high, or where the runtime
 * has no descriptor for the return address. The next frame is at
 * sp + (frame_data & FRAME_SIZE_MASK) unless frame_data is FRAME_RETURN_TO_C_MARK. */
bool fiber_frame_at(const char *sp, const char *high, uintptr_t *pc, uint16_t *frame_data);

#endif
