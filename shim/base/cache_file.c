/* cache_file: see cache_file.h. Every length read from the file is compared with what
 * remains before it is added to an offset, so no sum can wrap. */
#include "cache_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char magic[8] = { 'O', 'C', 'P', 'R', 'A', 'N', 'C', '1' };
#define HEADER_LEN 32
#define CHECKSUM_AT 24

static uint64_t load64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t load32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static size_t pad8(size_t n) { return (8 - (n & 7)) & 7; }

/* Fletcher's checksum over 64-bit words, two running sums kept apart: any single flipped
 * bit, any truncation and any swap of two words changes it, at about a word per cycle (a
 * megabyte in well under a tenth of a millisecond). It detects corruption, not forgery:
 * see cache_store.h. */
struct fletcher { uint64_t a, b; };

static void fletcher_add(struct fletcher *f, const uint8_t *p, size_t n)
{
    uint64_t a = f->a, b = f->b;
    for (; n >= 8; p += 8, n -= 8) {
        a += load64(p);
        b += a;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, n);
    a += tail ^ ((uint64_t)n << 56);
    b += a;
    f->a = a;
    f->b = b;
}

uint64_t cache_file_checksum(const uint8_t *buf, size_t len)
{
    struct fletcher f = { 0x6F63707265656D70ull, len };
    if (len < HEADER_LEN) {
        fletcher_add(&f, buf, len);
    } else {
        fletcher_add(&f, buf, CHECKSUM_AT);
        fletcher_add(&f, buf + HEADER_LEN, len - HEADER_LEN);
    }
    return f.a ^ (f.b * 0x9E3779B97F4A7C15ull);
}

int cache_file_parse(const uint8_t *buf, size_t len, const char *key, size_t key_len,
                     bool verify_checksum, struct cache_view *out, char *why, size_t why_len)
{
    out->count = 0;
    if (len < HEADER_LEN + 8 || memcmp(buf, magic, sizeof magic) != 0) {
        snprintf(why, why_len, "not a cache file (bad magic or too short)");
        return -1;
    }
    if (load32(buf + 8) != CACHE_FILE_VERSION) {
        snprintf(why, why_len, "format version %u, not %u", load32(buf + 8), CACHE_FILE_VERSION);
        return -1;
    }
    uint32_t count = load32(buf + 12);
    if (load64(buf + 16) != len) {
        snprintf(why, why_len, "truncated (header says %llu bytes, file has %zu)",
                 (unsigned long long)load64(buf + 16), len);
        return -1;
    }
    if (verify_checksum && cache_file_checksum(buf, len) != load64(buf + CHECKSUM_AT)) {
        snprintf(why, why_len, "checksum mismatch");
        return -1;
    }
    if (count > CACHE_RECORDS_MAX) {
        snprintf(why, why_len, "%u records (at most %u)", count, CACHE_RECORDS_MAX);
        return -1;
    }
    size_t at = HEADER_LEN, left = len - HEADER_LEN;
    uint32_t stored_key_len = load32(buf + at);
    at += 4, left -= 4;
    if (stored_key_len > left || pad8(4 + stored_key_len) > left - stored_key_len) {
        snprintf(why, why_len, "key length %u past the end", stored_key_len);
        return -1;
    }
    if (stored_key_len != key_len || memcmp(buf + at, key, key_len) != 0) {
        snprintf(why, why_len, "written for another binary, engine or configuration");
        return -1;
    }
    at += stored_key_len + pad8(4 + stored_key_len);
    left = len - at;
    for (uint32_t i = 0; i < count; i++) {
        if (left < 16) {
            snprintf(why, why_len, "record %u past the end", i);
            return -1;
        }
        uint32_t tag = load32(buf + at);
        uint64_t n = load64(buf + at + 8);
        at += 16, left -= 16;
        if (n > left || pad8(n) > left - n) {
            snprintf(why, why_len, "record %u: length %llu past the end", i, (unsigned long long)n);
            return -1;
        }
        if (cache_view_get(out, tag, &(size_t){ 0 }) != NULL) {
            snprintf(why, why_len, "record tag %u twice", tag);
            return -1;
        }
        out->records[out->count++] = (struct cache_record){ tag, buf + at, (size_t)n };
        at += n + pad8(n);
        left = len - at;
    }
    if (left != 0) {
        snprintf(why, why_len, "%zu bytes after the last record", left);
        out->count = 0;
        return -1;
    }
    return 0;
}

const uint8_t *cache_view_get(const struct cache_view *v, uint32_t tag, size_t *len)
{
    for (size_t i = 0; i < v->count; i++)
        if (v->records[i].tag == tag) {
            *len = v->records[i].len;
            return v->records[i].bytes;
        }
    return NULL;
}

/* Appends n bytes; then, if `pad`, zeroes up to the next multiple of 8 of the whole. */
const void *cache_view_array(const struct cache_view *v, uint32_t tag, size_t size,
                             size_t max, size_t *count)
{
    size_t len;
    const uint8_t *bytes = cache_view_get(v, tag, &len);
    if (!bytes || size == 0 || len % size != 0 || len / size > max)
        return NULL;
    *count = len / size;
    return bytes;
}

static void append(struct cache_builder *b, const void *bytes, size_t n, bool pad)
{
    if (b->failed)
        return;
    size_t need = n + (pad ? pad8(b->len + n) : 0);
    if (need > b->capacity - b->len) {
        size_t cap = b->capacity ? b->capacity : 64 * 1024;
        while (need > cap - b->len && cap < CACHE_FILE_MAX)
            cap *= 2;
        uint8_t *grown = need <= cap - b->len ? realloc(b->buf, cap) : NULL;
        if (!grown) {
            b->failed = true;
            return;
        }
        b->buf = grown;
        b->capacity = cap;
    }
    if (n)
        memcpy(b->buf + b->len, bytes, n);
    memset(b->buf + b->len + n, 0, need - n);
    b->len += need;
}

void cache_builder_begin(struct cache_builder *b, const char *key, size_t key_len)
{
    *b = (struct cache_builder){ NULL, 0, 0, 0, false };
    uint8_t header[HEADER_LEN] = { 0 };
    memcpy(header, magic, sizeof magic);
    uint32_t version = CACHE_FILE_VERSION, n = (uint32_t)key_len;
    memcpy(header + 8, &version, 4);
    append(b, header, sizeof header, false);
    append(b, &n, 4, false);
    append(b, key, key_len, true);
}

void cache_builder_add(struct cache_builder *b, uint32_t tag, const void *bytes, size_t len)
{
    if (b->count == CACHE_RECORDS_MAX)
        b->failed = true;
    uint8_t head[16] = { 0 };
    uint64_t n = len;
    memcpy(head, &tag, 4);
    memcpy(head + 8, &n, 8);
    append(b, head, sizeof head, false);
    append(b, bytes, len, true);
    b->count++;
}

int cache_builder_finish(struct cache_builder *b)
{
    if (b->failed || b->len > CACHE_FILE_MAX)
        return -1;
    uint64_t total = b->len;
    memcpy(b->buf + 12, &b->count, 4);
    memcpy(b->buf + 16, &total, 8);
    uint64_t sum = cache_file_checksum(b->buf, b->len);
    memcpy(b->buf + CHECKSUM_AT, &sum, 8);
    return 0;
}

void cache_builder_free(struct cache_builder *b)
{
    free(b->buf);
    *b = (struct cache_builder){ NULL, 0, 0, 0, false };
}
