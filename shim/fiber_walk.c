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

#define STACK_HEADER_SIZE 32          /* amd64 Stack_header_size */
#define MEMO_SIZE 256                 /* direct-mapped, per thread */
#define REGIONS 4                     /* fibers remembered per thread */
#define CHECKPOINTS 24
#define CHECK_WORDS 6                 /* return address + up to 5 words of the frame */
#define FIRST_CHECKPOINT 4            /* frames from the top; then 8, 16, 32... */
#define REMEMBER_FROM 32              /* shallower fibers are walked whole each time */

struct memo_entry {
    uintptr_t pc;
    uint16_t frame_data;
    uint8_t class;
};

struct checkpoint {
    uintptr_t off;                    /* Stack_high - sp of the frame */
    uintptr_t words[CHECK_WORDS];     /* from sp - 8: its return address, then the frame */
    uint8_t nwords;
};

struct clean_region {
    int64_t fiber;                    /* stack_info.id + 1; 0 = unused */
    uint32_t count;
    struct checkpoint cp[CHECKPOINTS];   /* top-most first (off descending) */
};

/* Per-thread state, on the heap: the engine is loaded with dlopen, where static TLS has
 * room for a few words only (the module's whole TLS block is static: hijack.c's hand-off
 * record is initial-exec). One pointer in TLS; the block is allocated at the thread's first
 * walk (hook context: malloc is allowed) and freed by a pthread key destructor at its exit.
 * Without it (out of memory) walks run whole, without memo or checkpoints. */
struct walk_cache {
    struct memo_entry memo[MEMO_SIZE];
    struct clean_region regions[REGIONS];
    unsigned next_region;
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

static size_t memo_slot(uintptr_t pc) { return (size_t)((pc * 0x9E3779B97F4A7C15ull) >> 56); }

/* Frame data and class of pc; false if the runtime has no descriptor for it. */
static bool describe(struct walk_cache *cache, uintptr_t pc, frame_classifier classify,
                     caml_frame_descrs_t *fds, uint16_t *frame_data, uint8_t *class)
{
    struct memo_entry scratch = { 0, 0, 0 };
    struct memo_entry *m = cache ? &cache->memo[memo_slot(pc) % MEMO_SIZE] : &scratch;
    if (m->pc != pc) {
        if (!*fds)
            *fds = ocaml_rt.get_frame_descrs();
        const uint8_t *d = ocaml_rt.find_frame_descr(*fds, pc);
        if (!d)
            return false;
        memcpy(&m->frame_data, d + sizeof(uintptr_t), sizeof m->frame_data);
        m->class = classify(pc);
        m->pc = pc;
    }
    *frame_data = m->frame_data;
    *class = m->class;
    return true;
}

static void record(struct checkpoint *cp, const char *sp, const char *high, uint16_t size)
{
    size_t n = 1 + size / sizeof(uintptr_t);
    if (n > CHECK_WORDS)
        n = CHECK_WORDS;
    if (sp - sizeof(uintptr_t) + n * sizeof(uintptr_t) > high)
        n = (size_t)(high - (sp - sizeof(uintptr_t))) / sizeof(uintptr_t);
    cp->off = (uintptr_t)(high - sp);
    cp->nwords = (uint8_t)n;
    memcpy(cp->words, sp - sizeof(uintptr_t), n * sizeof(uintptr_t));
}

static bool holds(const struct checkpoint *cp, const char *high)
{
    return memcmp(cp->words, high - cp->off - sizeof(uintptr_t),
                  cp->nwords * sizeof(uintptr_t)) == 0;
}

/* Checkpoint i and every older one still hold. */
static bool region_holds_from(const struct clean_region *r, uint32_t i, const char *high)
{
    for (; i < r->count; i++)
        if (!holds(&r->cp[i], high))
            return false;
    return true;
}

static struct clean_region *region_of(struct walk_cache *cache, int64_t fiber)
{
    for (unsigned i = 0; cache && i < REGIONS; i++)
        if (cache->regions[i].fiber == fiber + 1)
            return &cache->regions[i];
    return NULL;
}

/* The walk's own checkpoints, then the old ones from `keep` on (all clean). */
static void remember(struct walk_cache *cache, struct clean_region *r, int64_t fiber,
                     const struct checkpoint *fresh, uint32_t nfresh, uint32_t keep)
{
    if (!cache)
        return;
    if (!r) {
        r = &cache->regions[cache->next_region++ % REGIONS];
        r->count = 0;
        keep = 0;
    }
    struct checkpoint merged[CHECKPOINTS];
    uint32_t n = 0;
    for (uint32_t i = 0; i < nfresh && n < CHECKPOINTS; i++)
        merged[n++] = fresh[i];
    for (uint32_t i = keep; i < r->count && n < CHECKPOINTS; i++)
        merged[n++] = r->cp[i];
    memcpy(r->cp, merged, n * sizeof merged[0]);
    r->count = n;
    r->fiber = fiber + 1;
}

void fiber_walk(uintptr_t stack, int64_t fiber, frame_classifier classify,
                struct walk_outcome *out)
{
    const char *sp = (const char *)STACK_FIELD(stack, sp);
    const char *high = (const char *)STACK_FIELD(stack, handler);
    uintptr_t pc;
    memcpy(&pc, sp, sizeof pc);
    sp += sizeof pc;
    caml_frame_descrs_t fds = NULL;
    struct walk_cache *cache = cache_of_thread();
    struct clean_region *region = region_of(cache, fiber);
    struct checkpoint fresh[CHECKPOINTS];
    uint32_t nfresh = 0, next_old = 0;
    size_t next_mark = FIRST_CHECKPOINT;
    *out = (struct walk_outcome){ WALK_CLEAN, 0, false, 0, false };
    bool owner_known = false;
    for (;; out->frames++) {
        uintptr_t off = (uintptr_t)(high - sp);
        if (region && owner_known) {
            while (next_old < region->count && region->cp[next_old].off > off)
                next_old++;
            if (next_old < region->count && region->cp[next_old].off == off &&
                region_holds_from(region, next_old, high)) {
                out->from_checkpoint = true;
                remember(cache, region, fiber, fresh, nfresh, next_old);
                return;
            }
        }
        uint16_t frame_data;
        uint8_t class;
        if (!describe(cache, pc, classify, &fds, &frame_data, &class)) {
            out->result = WALK_UNWALKABLE;
            return;
        }
        if (!owner_known && !(class & FRAME_TRANSPARENT)) {
            owner_known = true;
            out->owner_denied = (class & FRAME_DENIED) != 0;
        }
        if (class & FRAME_STOP_MASK) {
            out->result = WALK_HIT;
            out->hit = class & FRAME_STOP_MASK;
            return;
        }
        if (frame_data == FRAME_RETURN_TO_C_MARK) {
            if (sp + STACK_HEADER_SIZE != high) {
                out->result = WALK_CALLBACK;
                return;
            }
            if (out->frames >= REMEMBER_FROM)
                remember(cache, region, fiber, fresh, nfresh, region ? region->count : 0);
            return;
        }
        uint16_t size = frame_data & ~3u;
        if (out->frames + 1 == next_mark) {
            if (nfresh < CHECKPOINTS)
                record(&fresh[nfresh++], sp, high, size);
            next_mark *= 2;
        }
        sp += size;
        if (sp > high) {
            out->result = WALK_UNWALKABLE;
            return;
        }
        memcpy(&pc, sp - sizeof pc, sizeof pc);
    }
}
