/* fiber_walk: see fiber_walk.h.
 *
 * Frame arithmetic mirrors the runtime's caml_next_frame_descriptor (5.3, amd64 without
 * frame pointers, which the start-up requires): current_stack->sp holds the return address
 * into the interrupted function; a frame of descriptor size S starting at sp ends with its
 * caller's return address at sp + S - 8; a descriptor of size 0xFFFF ends an OCaml chunk,
 * which is the fiber's base when the 4-word stack header then reaches Stack_high (the
 * stack_info's handler), and a callback boundary (C frames below) otherwise. */
#include "fiber_walk.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "frametable.h"
#include "runtime.h"

#define MEMO_SIZE 256                 /* direct-mapped, per thread; a power of two */

struct memo_entry {
    uintptr_t pc;                     /* 0 = empty: no return address is 0 */
    uint16_t frame_data;
    uint8_t class;
};

/* Per-thread state, on the heap: the engine is loaded with dlopen, where static TLS has
 * room for a few words only (the module's whole TLS block is static: stub_abi.c's hand-off
 * record is initial-exec). One pointer in TLS; the block is allocated at the thread's first
 * walk (hook context: malloc is allowed) and freed by a pthread key destructor at its exit.
 * Without it (out of memory) walks run without memo (fiber_walk_reference). */
struct walk_cache {
    struct memo_entry memo[MEMO_SIZE];
};

static __thread struct walk_cache *thread_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;
static bool cache_key_ok;

static void make_cache_key(void) { cache_key_ok = pthread_key_create(&cache_key, free) == 0; }

static struct walk_cache *cache_of_thread(void)
{
    if (thread_cache)
        return thread_cache;
    pthread_once(&cache_key_once, make_cache_key);
    if (!cache_key_ok)
        return NULL;
    struct walk_cache *c = calloc(1, sizeof *c);
    if (c && pthread_setspecific(cache_key, c) != 0) {
        free(c);
        c = NULL;
    }
    return thread_cache = c;
}

static size_t memo_slot(uintptr_t pc)
{
    return (size_t)((pc * 0x9E3779B97F4A7C15ull) >> 56) & (MEMO_SIZE - 1);
}

bool fiber_frame_data(uintptr_t pc, uint16_t *frame_data)
{
    const uint8_t *d = ocaml_rt.find_frame_descr(pc);
    if (!d)
        return false;
    memcpy(frame_data, d + sizeof(uintptr_t), sizeof *frame_data);
    return true;
}

bool fiber_frame_at(const char *sp, const char *high, uintptr_t *pc, uint16_t *frame_data)
{
    if (sp + sizeof *pc > high)
        return false;
    memcpy(pc, sp, sizeof *pc);
    return fiber_frame_data(*pc, frame_data);
}

/* The memo entry of pc, filled on a miss; NULL if the runtime has no descriptor for it. */
static const struct memo_entry *describe(struct walk_cache *cache, uintptr_t pc,
                                         frame_classifier classify)
{
    struct memo_entry *m = &cache->memo[memo_slot(pc)];
    if (m->pc == pc)
        return m;
    uint16_t frame_data;
    if (!fiber_frame_data(pc, &frame_data))
        return NULL;
    m->frame_data = frame_data;
    m->class = classify(pc);
    m->pc = pc;
    return m;
}

/* The owner search: the first frame that is not transparent decides. */
static void note_owner(struct walk_outcome *out, uint8_t class, uintptr_t pc)
{
    if (out->owner == WALK_OWNER_UNSEEN && !(class & FRAME_TRANSPARENT)) {
        out->owner = (class & FRAME_DENIED) ? WALK_OWNER_DENIED : WALK_OWNER_PLAIN;
        out->owner_pc = pc;
    }
}

void fiber_walk(uintptr_t stack, frame_classifier classify, struct walk_outcome *out)
{
    struct walk_cache *cache = cache_of_thread();
    if (!cache) {
        fiber_walk_reference(stack, classify, out);
        return;
    }
    const char *sp = (const char *)STACK_FIELD(stack, sp);
    const char *high = (const char *)STACK_FIELD(stack, handler);
    uintptr_t pc;
    memcpy(&pc, sp, sizeof pc);
    sp += sizeof pc;
    *out = (struct walk_outcome){ WALK_CLEAN, 0, WALK_OWNER_UNSEEN, 0, 0 };
    /* A recursion repeats one return address: the previous frame's entry is tried first. */
    const struct memo_entry *m = NULL;
    for (;;) {
        out->frames++;
        if (!m || m->pc != pc) {
            m = describe(cache, pc, classify);
            if (!m) {
                out->result = WALK_UNWALKABLE;
                return;
            }
        }
        note_owner(out, m->class, pc);
        if (m->class & FRAME_STOP_MASK) {
            out->result = WALK_HIT;
            out->hit = m->class & FRAME_STOP_MASK;
            return;
        }
        if (m->frame_data == FRAME_RETURN_TO_C_MARK) {
            if (sp + STACK_HEADER_SIZE != high)
                out->result = WALK_CALLBACK;
            return;
        }
        sp += m->frame_data & FRAME_SIZE_MASK;
        if (sp > high) {
            out->result = WALK_UNWALKABLE;
            return;
        }
        memcpy(&pc, sp - sizeof pc, sizeof pc);
    }
}

void fiber_walk_reference(uintptr_t stack, frame_classifier classify,
                          struct walk_outcome *out)
{
    const char *sp = (const char *)STACK_FIELD(stack, sp);
    const char *high = (const char *)STACK_FIELD(stack, handler);
    *out = (struct walk_outcome){ WALK_CLEAN, 0, WALK_OWNER_UNSEEN, 0, 0 };
    for (;;) {
        uintptr_t pc;
        uint16_t frame_data;
        memcpy(&pc, sp, sizeof pc);
        out->frames++;
        if (!fiber_frame_data(pc, &frame_data)) {
            out->result = WALK_UNWALKABLE;
            return;
        }
        uint8_t class = classify(pc);
        note_owner(out, class, pc);
        if (class & FRAME_STOP_MASK) {
            out->result = WALK_HIT;
            out->hit = class & FRAME_STOP_MASK;
            return;
        }
        if (frame_data == FRAME_RETURN_TO_C_MARK) {
            if (sp + sizeof pc + STACK_HEADER_SIZE != high)
                out->result = WALK_CALLBACK;
            return;
        }
        /* the frame occupies [sp + 8, sp + 8 + size); the caller's return address is its
           last word */
        sp += frame_data & FRAME_SIZE_MASK;
        if (sp + sizeof pc > high) {
            out->result = WALK_UNWALKABLE;
            return;
        }
    }
}
