/* cache_file: the byte format of one analysis cache file (docs/design.md, "The analysis
 * cache"): a header, the key it was written for, then tagged records.
 *
 *   0  magic "OCPRANC1"          8  u32 format version      12  u32 record count
 *  16  u64 total length         24  u64 checksum of bytes [0, 24) and [32, total)
 *  32  u32 key length, key bytes, zero padding to 8
 *      record: u32 tag, u32 0, u64 length, bytes, zero padding to 8; repeated
 *
 * Invariants: libc only, no global state (the fuzz harness links this file alone);
 * cache_file_parse never reads outside [buf, buf + len) whatever the bytes, and accepts a
 * file only if the magic, version, length, checksum and key agree and every record lies
 * inside the file with a distinct tag; a rejected file yields a one-phrase reason. The
 * records' contents are the stages' own (their *_restore functions check every field);
 * they are raw structs of the engine build that wrote them, which the key names.
 */
#ifndef OCPREEMPT_CACHE_FILE_H
#define OCPREEMPT_CACHE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_FILE_VERSION 3    /* 2: sites as struct safepoint, index, shadow split;
                                   3: caml_minor_gc_end_hook in the runtime record */
#define CACHE_RECORDS_MAX 32
#define CACHE_FILE_MAX (64u << 20)    /* larger files are refused unread */

/* The records of one file, one per stage's table (shim/engine/analysis_cache.c). */
enum cache_tag {
    CACHE_TAG_RUNTIME = 1,        /* struct runtime_cached (base/runtime.h) */
    CACHE_TAG_YIELD,              /* struct yield_cached (landing/yield_target.h) */
    CACHE_TAG_EXTENT_RANGES,      /* landing.c: the critical extents */
    CACHE_TAG_EXTENT_ENTRIES,
    CACHE_TAG_CODE_OWNERS,        /* code_owner.c */
    CACHE_TAG_SITES,              /* site_table.c: the safe points */
    CACHE_TAG_SITE_COUNTS,
    CACHE_TAG_SHADOW,             /* site_table.c: their shadow descriptors' heads */
    CACHE_TAG_INLINE_FRAMES,      /* inline_frames.c */
    CACHE_TAG_SWITCH_ROUTINES,    /* request/switch_hook.c */
    CACHE_TAG_SITE_INDEX,         /* site_table.c: the sites' hash index */
    CACHE_TAG_SHADOW_SLOTS,       /* site_table.c: the shadow descriptors' stack slots */
};

struct cache_record {
    uint32_t tag;
    const uint8_t *bytes;
    size_t len;
};

struct cache_view {
    struct cache_record records[CACHE_RECORDS_MAX];
    size_t count;
};

/* The file's checksum over `len` bytes (the checksum field itself skipped). */
uint64_t cache_file_checksum(const uint8_t *buf, size_t len);

/* Checks buf[0, len) as a cache file written for `key` (key_len bytes) and lists its
 * records (pointing into buf). verify_checksum false is for the fuzz harness only, so it
 * can reach the record parsing. 0, or -1 with a reason in why. */
int cache_file_parse(const uint8_t *buf, size_t len, const char *key, size_t key_len,
                     bool verify_checksum, struct cache_view *out, char *why, size_t why_len);

/* The record with `tag`, or NULL (*len untouched). */
const uint8_t *cache_view_get(const struct cache_view *v, uint32_t tag, size_t *len);

/* The record with `tag` as an array of `count` elements of `size` bytes, at most `max`:
 * NULL when absent, not a whole number of elements, or too many. The bytes are only
 * 8-aligned: elements are structs of at most 8-byte alignment. */
const void *cache_view_array(const struct cache_view *v, uint32_t tag, size_t size,
                             size_t max, size_t *count);

/* Building a file in memory: begin, add records, finish. Any failure (out of memory, too
 * many records) sticks: finish then returns -1 and the file is not written. */
struct cache_builder {
    uint8_t *buf;
    size_t len, capacity;
    uint32_t count;
    bool failed;
};
void cache_builder_begin(struct cache_builder *b, const char *key, size_t key_len);
void cache_builder_add(struct cache_builder *b, uint32_t tag, const void *bytes, size_t len);
int cache_builder_finish(struct cache_builder *b);
void cache_builder_free(struct cache_builder *b);

#endif
