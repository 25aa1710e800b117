/* Unit tests of the frame-descriptor decoder on hand-built tables.
 *
 * Tables are assembled in a uint64_t array (so they start 8-byte aligned, as in a binary)
 * following the layout of runtime/caml/frame_descriptors.h; each test states the bytes it
 * expects the decoder to account for.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "frametable.h"

/* An append-only byte buffer with the runtime's alignment rules. */
struct table_builder {
    uint64_t storage[256];
    size_t len;
};

static uint8_t *bytes_of(struct table_builder *b) { return (uint8_t *)b->storage; }

static void put(struct table_builder *b, const void *p, size_t n)
{
    memcpy(bytes_of(b) + b->len, p, n);
    b->len += n;
}
static void put_u8(struct table_builder *b, uint8_t v) { put(b, &v, 1); }
static void put_u16(struct table_builder *b, uint16_t v) { put(b, &v, 2); }
static void put_u32(struct table_builder *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(struct table_builder *b, uint64_t v) { put(b, &v, 8); }
static void align(struct table_builder *b, size_t a)
{
    while (b->len % a)
        put_u8(b, 0xAA);              /* padding bytes must not be interpreted */
}

static void init(struct table_builder *b)
{
    memset(b->storage, 0, sizeof b->storage);
    b->len = 0;
}

/* A poll site: alloc flag, num_allocs 0, no debug info. 8+2+2 + 2*2 live + 1 = 17 -> 24. */
static void add_poll(struct table_builder *b, uint64_t retaddr)
{
    put_u64(b, retaddr);
    put_u16(b, 32 | FRAME_FLAG_ALLOC);
    put_u16(b, 2);
    put_u16(b, 3);                    /* register 1 (rbx) */
    put_u16(b, 16);                   /* stack slot at 16 */
    put_u8(b, 0);                     /* num_allocs */
    align(b, 8);
}

static void test_poll(int argc, char **argv)
{
    struct table_builder b;
    init(&b);
    add_poll(&b, 0x401234);
    struct frame_descr_view d;
    CHECK_EQ(frame_descr_decode(bytes_of(&b), b.len, &d), 0);
    CHECK_EQ(d.retaddr, 0x401234);
    CHECK_EQ(d.kind, SITE_POLL);
    CHECK_EQ(d.frame_size, 32);
    CHECK_EQ(d.num_live, 2);
    CHECK_EQ(d.num_allocs, 0);
    CHECK_EQ(d.num_debug, 0);
    CHECK_EQ(d.size, 24);
    CHECK_EQ(frame_descr_alloc_bytes(&d), 0);
    CHECK_EQ(frame_descr_live_regs(&d), 1u << 1);
    CHECK_EQ(frame_descr_live_stack_slots(&d), 1);
    CHECK_STR(safepoint_kind_name(d.kind), "poll");
}

/* Three allocations (2, 1 and 256 words) with debug info: one debuginfo word per alloc.
 * 12 + 0 live + 1 + 3 allocs = 16, aligned to 4 = 16, + 3*4 = 28, aligned to 8 = 32. */
static void test_alloc_several(int argc, char **argv)
{
    struct table_builder b;
    init(&b);
    put_u64(&b, 0x402000);
    put_u16(&b, 48 | FRAME_FLAG_ALLOC | FRAME_FLAG_DEBUG);
    put_u16(&b, 0);
    put_u8(&b, 3);
    put_u8(&b, 1);                    /* 2 words */
    put_u8(&b, 0);                    /* 1 word */
    put_u8(&b, 255);                  /* 256 words */
    align(&b, 4);
    put_u32(&b, 0x100);
    put_u32(&b, 0x200);
    put_u32(&b, 0x300);
    align(&b, 8);
    struct frame_descr_view d;
    CHECK_EQ(frame_descr_decode(bytes_of(&b), b.len, &d), 0);
    CHECK_EQ(d.kind, SITE_ALLOC);
    CHECK_EQ(d.frame_size, 48);
    CHECK_EQ(d.num_allocs, 3);
    CHECK_EQ(d.alloc_lengths[0], 1);
    CHECK_EQ(d.alloc_lengths[2], 255);
    CHECK_EQ(d.num_debug, 3);
    CHECK_EQ(d.debug_info[0], 0x100);
    CHECK_EQ(d.debug_info[2], 0x300);
    CHECK_EQ(d.size, 32);
    CHECK_EQ(b.len, 32);
    /* (1+2) + (0+2) + (255+2) words */
    CHECK_EQ(frame_descr_alloc_bytes(&d), 8 * (3 + 2 + 257));
}

/* A call site with debug info and an odd number of live slots: the debuginfo word must
 * be read at the next 4-byte boundary, not right after the live offsets.
 * 12 + 3*2 = 18 -> align 4 = 20, + 4 = 24. */
static void test_debuginfo_alignment(int argc, char **argv)
{
    struct table_builder b;
    init(&b);
    put_u64(&b, 0x403000);
    put_u16(&b, 16 | FRAME_FLAG_DEBUG);
    put_u16(&b, 3);
    put_u16(&b, 1);
    put_u16(&b, 8);
    put_u16(&b, 5);
    align(&b, 4);
    CHECK_EQ(b.len, 20);
    put_u32(&b, 0xdeadbeef);
    align(&b, 8);
    struct frame_descr_view d;
    CHECK_EQ(frame_descr_decode(bytes_of(&b), b.len, &d), 0);
    CHECK_EQ(d.kind, SITE_CALL);
    CHECK_EQ(d.num_debug, 1);
    CHECK_EQ(d.debug_info[0], 0xdeadbeef);
    CHECK_EQ(d.size, 24);
    CHECK_EQ(frame_descr_live_regs(&d), (1u << 0) | (1u << 2));
    CHECK_EQ(frame_descr_live_stack_slots(&d), 1);

    /* Alloc + debug with one alloc: 12 + 0 + 1 + 1 = 14 -> 16, + 4 = 20 -> 24. */
    init(&b);
    put_u64(&b, 0x403100);
    put_u16(&b, 16 | FRAME_FLAG_ALLOC | FRAME_FLAG_DEBUG);
    put_u16(&b, 0);
    put_u8(&b, 1);
    put_u8(&b, 2);
    align(&b, 4);
    CHECK_EQ(b.len, 16);
    put_u32(&b, 7);
    align(&b, 8);
    CHECK_EQ(frame_descr_decode(bytes_of(&b), b.len, &d), 0);
    CHECK_EQ(d.kind, SITE_ALLOC);
    CHECK_EQ(d.debug_info[0], 7);
    CHECK_EQ(d.size, 24);
}

/* caml_system.frametable: two return-to-C markers, each 8 + 2 + 2 -> 16 bytes. */
static void test_return_to_c(int argc, char **argv)
{
    struct table_builder b;
    init(&b);
    put_u64(&b, 2);
    for (int i = 0; i < 2; i++) {
        put_u64(&b, 0x404000 + 0x10 * (unsigned)i);
        put_u16(&b, FRAME_RETURN_TO_C_MARK);
        put_u16(&b, 0);
        align(&b, 8);
    }
    CHECK_EQ(frametable_length(bytes_of(&b), b.len), 8 + 2 * 16);
    struct frame_descr_view d;
    CHECK_EQ(frame_descr_decode(bytes_of(&b) + 8, b.len - 8, &d), 0);
    CHECK_EQ(d.kind, SITE_RETURN_TO_C);
    CHECK_EQ(d.size, 16);
    CHECK_STR(safepoint_kind_name(d.kind), "return-to-C");
}

struct kind_count {
    unsigned calls, polls, allocs, to_c;
};

static int count_kinds(const struct frame_descr_view *d, void *ctx)
{
    struct kind_count *k = ctx;
    k->calls += d->kind == SITE_CALL;
    k->polls += d->kind == SITE_POLL;
    k->allocs += d->kind == SITE_ALLOC;
    k->to_c += d->kind == SITE_RETURN_TO_C;
    return 0;
}

static int stop_at_second(const struct frame_descr_view *d, void *ctx)
{
    unsigned *seen = ctx;
    return ++*seen == 2 ? 42 : 0;
}

/* A whole module table mixing kinds, walked by frametable_each. */
static void test_table_walk(int argc, char **argv)
{
    struct table_builder b;
    init(&b);
    put_u64(&b, 3);
    add_poll(&b, 0x1000);
    put_u64(&b, 0x1010);                              /* call, no live, no debug: 16 */
    put_u16(&b, 16);
    put_u16(&b, 0);
    align(&b, 8);
    add_poll(&b, 0x1020);
    struct kind_count k = {0};
    CHECK_EQ(frametable_each(bytes_of(&b), b.len, count_kinds, &k), 0);
    CHECK_EQ(k.polls, 2);
    CHECK_EQ(k.calls, 1);
    CHECK_EQ(frametable_length(bytes_of(&b), b.len), 8 + 24 + 16 + 24);
    unsigned seen = 0;
    CHECK_EQ(frametable_each(bytes_of(&b), b.len, stop_at_second, &seen), 42);
    CHECK_EQ(seen, 2);
}

/* Truncations at every length, absurd counts, misalignment, corrupt markers. */
static void test_malformed(int argc, char **argv)
{
    struct table_builder b;
    init(&b);
    put_u64(&b, 2);
    add_poll(&b, 0x1000);
    add_poll(&b, 0x1020);
    size_t full = b.len;
    CHECK_EQ(frametable_length(bytes_of(&b), full), (long)full);
    for (size_t cut = 0; cut < full; cut++)
        CHECK_EQ(frametable_length(bytes_of(&b), cut), (uint64_t)-1);   /* every prefix */

    uint64_t huge = 1u << 30;                        /* count beyond what bytes can hold */
    memcpy(bytes_of(&b), &huge, 8);
    CHECK_EQ(frametable_length(bytes_of(&b), full), (uint64_t)-1);
    int64_t negative = -1;
    memcpy(bytes_of(&b), &negative, 8);
    CHECK_EQ(frametable_each(bytes_of(&b), full, NULL, NULL), (uint64_t)-1);

    struct frame_descr_view d;
    CHECK_EQ(frame_descr_decode(bytes_of(&b) + 8 + 1, full - 9, &d), (uint64_t)-1); /* misaligned */

    init(&b);                                        /* return-to-C with live roots */
    put_u64(&b, 0x5000);
    put_u16(&b, FRAME_RETURN_TO_C_MARK);
    put_u16(&b, 1);
    put_u16(&b, 0);
    align(&b, 8);
    CHECK_EQ(frame_descr_decode(bytes_of(&b), b.len, &d), (uint64_t)-1);

    init(&b);                                        /* num_live runs past the end */
    put_u64(&b, 0x5000);
    put_u16(&b, 16);
    put_u16(&b, 0xffff);
    align(&b, 8);
    CHECK_EQ(frame_descr_decode(bytes_of(&b), b.len, &d), (uint64_t)-1);

    init(&b);                                        /* num_allocs runs past the end */
    put_u64(&b, 0x5000);
    put_u16(&b, 16 | FRAME_FLAG_ALLOC);
    put_u16(&b, 0);
    put_u8(&b, 200);
    align(&b, 8);
    CHECK_EQ(frame_descr_decode(bytes_of(&b), b.len, &d), (uint64_t)-1);
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"poll", test_poll},
        {"alloc_several", test_alloc_several},
        {"debuginfo_alignment", test_debuginfo_alignment},
        {"return_to_c", test_return_to_c},
        {"table_walk", test_table_walk},
        {"malformed", test_malformed},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
