/* frametable: decoding of OCaml 5 frame descriptors (see frametable.h).
 *
 * The layout is the one next_frame_descr() in runtime/frame_descriptors.c walks, identical
 * in 5.1.4 and 5.3.0. Invariants: offsets are computed relative to the descriptor start,
 * which must be 8-byte aligned (as in the runtime, where the emitted tables are
 * `.align 8`), so the 4- and 8-byte alignments the runtime applies to absolute addresses
 * are the same as ours; no byte at or beyond `avail` is ever read.
 */
#include "frametable.h"

#include <string.h>

#define DESCR_HEADER_BYTES 12u     /* retaddr (8) + frame_data (2) + num_live (2) */
#define MIN_DESCR_BYTES 16u        /* a header rounded up to a word */

static size_t align_up(size_t n, size_t a)
{
    return (n + a - 1) & ~(a - 1);
}

static enum safepoint_kind classify(uint16_t frame_data, uint8_t num_allocs)
{
    if (frame_data == FRAME_RETURN_TO_C_MARK)
        return SITE_RETURN_TO_C;
    if ((frame_data & FRAME_FLAG_ALLOC) == 0)
        return SITE_CALL;
    return num_allocs == 0 ? SITE_POLL : SITE_ALLOC;
}

/* The return-to-C marker (caml_system.frametable) has no roots and nothing after its
 * header; the runtime asserts num_live == 0, so anything else is corrupt. */
static int decode_return_to_c(struct frame_descr_view *out, size_t avail)
{
    if (out->num_live != 0)
        return -1;
    out->size = align_up(DESCR_HEADER_BYTES, 8);
    return out->size <= avail ? 0 : -1;
}

int frame_descr_decode(const uint8_t *p, size_t avail, struct frame_descr_view *out)
{
    if (((uintptr_t)p & 7u) != 0 || avail < DESCR_HEADER_BYTES)
        return -1;
    memset(out, 0, sizeof *out);
    memcpy(&out->retaddr, p, 8);
    memcpy(&out->frame_data, p + 8, 2);
    memcpy(&out->num_live, p + 10, 2);
    out->live_ofs = (const uint16_t *)(p + DESCR_HEADER_BYTES);
    out->kind = classify(out->frame_data, 0);
    if (out->kind == SITE_RETURN_TO_C) {
        out->live_ofs = NULL;
        return decode_return_to_c(out, avail);
    }
    out->frame_size = out->frame_data & (uint16_t)~3u;

    size_t off = DESCR_HEADER_BYTES + 2u * out->num_live;
    if (off > avail)
        return -1;
    bool has_alloc = (out->frame_data & FRAME_FLAG_ALLOC) != 0;
    if (has_alloc) {
        if (off + 1 > avail)
            return -1;
        out->num_allocs = p[off];
        out->alloc_lengths = p + off + 1;
        off += 1u + out->num_allocs;
        if (off > avail)
            return -1;
        out->kind = classify(out->frame_data, out->num_allocs);
    }
    if (out->frame_data & FRAME_FLAG_DEBUG) {
        off = align_up(off, 4);
        out->num_debug = has_alloc ? out->num_allocs : 1;
        out->debug_info = out->num_debug ? (const uint32_t *)(p + off) : NULL;
        off += 4u * out->num_debug;
        if (off > avail)
            return -1;
    }
    out->size = align_up(off, 8);
    return out->size <= avail ? 0 : -1;
}

uint64_t frame_descr_alloc_bytes(const struct frame_descr_view *d)
{
    uint64_t words = 0;
    for (unsigned i = 0; i < d->num_allocs; i++)
        words += (uint64_t)d->alloc_lengths[i] + 2;     /* wosize - 1 stored, + header */
    return words * 8;
}

uint32_t frame_descr_live_regs(const struct frame_descr_view *d)
{
    uint32_t mask = 0;
    for (unsigned i = 0; i < d->num_live; i++) {
        uint16_t ofs;
        memcpy(&ofs, &d->live_ofs[i], sizeof ofs);
        if ((ofs & 1u) && (ofs >> 1) < 32)
            mask |= 1u << (ofs >> 1);
    }
    return mask;
}

unsigned frame_descr_live_stack_slots(const struct frame_descr_view *d)
{
    unsigned n = 0;
    for (unsigned i = 0; i < d->num_live; i++) {
        uint16_t ofs;
        memcpy(&ofs, &d->live_ofs[i], sizeof ofs);
        if ((ofs & 1u) == 0)
            n++;
    }
    return n;
}

/* Reads the count word and rejects counts the bytes cannot possibly hold. */
static int table_count(const uint8_t *table, size_t avail, uint64_t *count)
{
    if (((uintptr_t)table & 7u) != 0 || avail < 8)
        return -1;
    int64_t n;
    memcpy(&n, table, sizeof n);
    if (n < 0 || (uint64_t)n > (avail - 8) / MIN_DESCR_BYTES)
        return -1;
    *count = (uint64_t)n;
    return 0;
}

int frametable_each(const uint8_t *table, size_t avail, frame_descr_visit visit, void *ctx)
{
    uint64_t count;
    if (table_count(table, avail, &count) != 0)
        return -1;
    size_t off = 8;
    for (uint64_t i = 0; i < count; i++) {
        struct frame_descr_view d;
        if (frame_descr_decode(table + off, avail - off, &d) != 0)
            return -1;
        if (visit != NULL) {
            int r = visit(&d, ctx);
            if (r != 0)
                return r;
        }
        off += d.size;
    }
    return 0;
}

static int add_descriptor_size(const struct frame_descr_view *d, void *total)
{
    *(size_t *)total += d->size;
    return 0;
}

long frametable_length(const uint8_t *table, size_t avail)
{
    size_t total = 8;                                  /* the count word */
    if (frametable_each(table, avail, add_descriptor_size, &total) != 0)
        return -1;
    return (long)total;
}

const char *safepoint_kind_name(enum safepoint_kind k)
{
    switch (k) {
    case SITE_CALL: return "call";
    case SITE_POLL: return "poll";
    case SITE_ALLOC: return "alloc";
    case SITE_RETURN_TO_C: return "return-to-C";
    }
    return "unknown";
}
