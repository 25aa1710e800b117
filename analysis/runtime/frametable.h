/* frametable: decoding of OCaml 5 frame descriptors (runtime/caml/frame_descriptors.h).
 *
 * Pure functions over bytes: the same code decodes a table read from a file (the probe)
 * and a table in the running process (the shim). Invariants:
 *  - decoding never reads past `avail` bytes; a descriptor that would is an error (-1);
 *  - a decoded view points into the caller's buffer and lives as long as it does;
 *  - `size` is the distance to the next descriptor, word-aligned, as the runtime computes;
 *  - descriptors and tables must start 8-byte aligned (they are `.align 8` in the binary and
 *    the runtime's 4/8-byte paddings are absolute): a misaligned pointer is rejected (-1).
 */
#ifndef OCPREEMPT_FRAMETABLE_H
#define OCPREEMPT_FRAMETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_FLAG_DEBUG 1u
#define FRAME_FLAG_ALLOC 2u
#define FRAME_RETURN_TO_C_MARK 0xFFFFu
#define GC_REGS_COUNT 13      /* rax rbx rdi rsi rdx rcx r8 r9 r12 r13 r10 r11 rbp */

enum safepoint_kind {
    SITE_CALL,          /* ordinary call site: not a place to preempt */
    SITE_POLL,          /* caml_call_gc from a poll: alloc flag, num_allocs == 0 */
    SITE_ALLOC,         /* caml_call_gc from an allocation: num_allocs > 0 */
    SITE_RETURN_TO_C,   /* frame_data == 0xFFFF */
};

struct frame_descr_view {
    uint64_t retaddr;
    uint16_t frame_data;              /* raw: size | flags */
    uint16_t frame_size;              /* frame_data & ~3 */
    uint16_t num_live;
    const uint16_t *live_ofs;         /* odd: register index ofs>>1; even: stack offset */
    uint8_t num_allocs;
    const uint8_t *alloc_lengths;     /* wosize - 1 each */
    uint16_t num_debug;
    const uint32_t *debug_info;       /* relative offsets, num_debug of them */
    enum safepoint_kind kind;
    size_t size;                      /* bytes from this descriptor to the next */
};

/* Decodes the descriptor at p. Returns 0, or -1 if it is malformed or overruns avail. */
int frame_descr_decode(const uint8_t *p, size_t avail, struct frame_descr_view *out);

/* Bytes an allocation site reserves: sum over allocs of (len + 2) words. */
uint64_t frame_descr_alloc_bytes(const struct frame_descr_view *d);

/* Bitmask of live registers (bit i = gc_regs index i) and count of live stack slots. */
uint32_t frame_descr_live_regs(const struct frame_descr_view *d);
unsigned frame_descr_live_stack_slots(const struct frame_descr_view *d);

/* One module's table: an int64 count followed by that many descriptors. Calls visit for
 * each; returns -1 if the table is malformed, visit's non-zero value, or 0. */
typedef int (*frame_descr_visit)(const struct frame_descr_view *d, void *ctx);
int frametable_each(const uint8_t *table, size_t avail, frame_descr_visit visit, void *ctx);

/* Total byte length of one module's table (count word + descriptors), or -1. */
long frametable_length(const uint8_t *table, size_t avail);

const char *safepoint_kind_name(enum safepoint_kind k);

#endif
