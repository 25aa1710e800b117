/* inline_frames: see inline_frames.h.
 *
 * Memory: one sorted array allocated at start-up, never freed (the walk reads it until the
 * process ends). Typically small: only descriptors in code that is neither denied nor in
 * an extent by its own unit, whose chain holds such a unit. */
#include "inline_frames.h"

#include <stdlib.h>

#include "cache_file.h"
#include "exe_memory.h"

struct inline_frame_entry {
    uintptr_t retaddr;
    uint8_t kind;                     /* enum inline_frame */
};

static struct inline_frame_entry *entries;
static size_t entry_count, entry_capacity;

int inline_frames_add(uintptr_t retaddr, enum inline_frame kind)
{
    if (entry_count == entry_capacity) {
        size_t cap = entry_capacity ? entry_capacity * 2 : 256;
        struct inline_frame_entry *grown = realloc(entries, cap * sizeof *grown);
        if (!grown)
            return -1;
        entries = grown;
        entry_capacity = cap;
    }
    entries[entry_count++] = (struct inline_frame_entry){ retaddr, (uint8_t)kind };
    return 0;
}

static int compare_retaddr(const void *a, const void *b)
{
    uintptr_t x = ((const struct inline_frame_entry *)a)->retaddr;
    uintptr_t y = ((const struct inline_frame_entry *)b)->retaddr;
    return x < y ? -1 : x > y;
}

void inline_frames_clear(void) { entry_count = 0; }

void inline_frames_seal(void)
{
    if (entry_count)
        qsort(entries, entry_count, sizeof *entries, compare_retaddr);
}

enum inline_frame inline_frames_of(uintptr_t retaddr)
{
    size_t lo = 0, hi = entry_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (retaddr < entries[mid].retaddr)
            hi = mid;
        else if (retaddr > entries[mid].retaddr)
            lo = mid + 1;
        else
            return (enum inline_frame)entries[mid].kind;
    }
    return INLINE_FRAME_PLAIN;
}

size_t inline_frames_count(void) { return entry_count; }

void inline_frames_export(struct cache_builder *b, uintptr_t bias)
{
    struct inline_frame_entry *out = malloc((entry_count ? entry_count : 1) * sizeof *out);
    if (!out) {
        b->failed = true;
        return;
    }
    for (size_t i = 0; i < entry_count; i++)
        out[i] = (struct inline_frame_entry){ entries[i].retaddr - bias, entries[i].kind };
    cache_builder_add(b, CACHE_TAG_INLINE_FRAMES, out, entry_count * sizeof *out);
    free(out);
}

int inline_frames_restore(const struct cache_view *v, const struct exe_memory *m)
{
    size_t n;
    const struct inline_frame_entry *in =
        cache_view_array(v, CACHE_TAG_INLINE_FRAMES, sizeof *in, 1u << 24, &n);
    struct inline_frame_entry *out = in ? malloc((n ? n : 1) * sizeof *out) : NULL;
    if (!out)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((in[i].kind != INLINE_FRAME_DENIED && in[i].kind != INLINE_FRAME_EXTENT) ||
            !exe_memory_in_code(m, in[i].retaddr, 0) ||
            (i > 0 && in[i].retaddr < in[i - 1].retaddr)) {
            free(out);
            return -1;
        }
        out[i] = (struct inline_frame_entry){ m->bias + in[i].retaddr, in[i].kind };
    }
    entries = out;
    entry_count = entry_capacity = n;
    return 0;
}
