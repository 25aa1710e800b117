/* cache_forge: rewrites one field of an analysis cache file and makes its checksum right
 * again, so that a test can show the readers' bounds checks refuse a file whose checksum
 * passes (a hostile file, not a corrupted one). Test tool; never installed.
 *
 *   cache_forge FILE MODE     MODE: noop | key-length | record-length | site-outside |
 *                                   site-counts | shadow-length | runtime-address |
 *                                   site-bucket | shadow-slot | shadow-frame
 * Exit 0 when the file was rewritten, 2 on a bad argument or a file it cannot parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_file.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = f ? malloc(CACHE_FILE_MAX) : NULL;
    *len = buf ? fread(buf, 1, CACHE_FILE_MAX, f) : 0;
    if (f)
        fclose(f);
    return buf;
}

static void seal(uint8_t *buf, size_t len)
{
    uint64_t sum = cache_file_checksum(buf, len);
    memcpy(buf + 24, &sum, 8);
}

static uint8_t *record(uint8_t *buf, size_t len, uint32_t tag, size_t *rlen)
{
    uint32_t key_len;
    memcpy(&key_len, buf + 32, 4);
    struct cache_view v;
    char why[160];
    if (key_len > len - 36 ||
        cache_file_parse(buf, len, (const char *)buf + 36, key_len, false, &v, why,
                         sizeof why) != 0) {
        fprintf(stderr, "cache_forge: %s\n", why);
        exit(2);
    }
    const uint8_t *r = cache_view_get(&v, tag, rlen);
    if (!r) {
        fprintf(stderr, "cache_forge: no record %u\n", tag);
        exit(2);
    }
    return (uint8_t *)r;
}

int main(int argc, char **argv)
{
    size_t len, rlen;
    uint8_t *buf = argc == 3 ? slurp(argv[1], &len) : NULL;
    if (!buf || len < 40) {
        fprintf(stderr, "usage: cache_forge FILE MODE (an existing cache file)\n");
        return 2;
    }
    const char *mode = argv[2];
    if (strcmp(mode, "noop") == 0) {
    } else if (strcmp(mode, "key-length") == 0) {
        uint32_t huge = 0xFFFFFFF0u;
        memcpy(buf + 32, &huge, 4);
    } else if (strcmp(mode, "record-length") == 0) {
        uint8_t *r = record(buf, len, CACHE_TAG_SITES, &rlen);
        uint64_t huge = (uint64_t)1 << 62;
        memcpy(r - 8, &huge, 8);      /* the record's length field */
    } else if (strcmp(mode, "site-outside") == 0) {
        uint8_t *r = record(buf, len, CACHE_TAG_SITES, &rlen);
        uint32_t outside = 0xFFFFFF00u;
        memcpy(r + 16 * (rlen / 32), &outside, 4);    /* a site in the middle: retaddr */
    } else if (strcmp(mode, "site-counts") == 0) {
        uint8_t *r = record(buf, len, CACHE_TAG_SITE_COUNTS, &rlen);
        unsigned long poll;
        memcpy(&poll, r, sizeof poll);
        poll += 1;
        memcpy(r, &poll, sizeof poll);
    } else if (strcmp(mode, "shadow-length") == 0) {
        uint8_t *r = record(buf, len, CACHE_TAG_SHADOW, &rlen);
        uint16_t many = 0xFFFF;
        memcpy(r + 2, &many, 2);      /* the first descriptor's num_live: more slots */
    } else if (strcmp(mode, "site-bucket") == 0) {
        /* a site in the middle moved 8 bytes: still in the code, now in another bucket
           than the directory puts it in (the bucket hashes address / 8) */
        uint8_t *r = record(buf, len, CACHE_TAG_SITES, &rlen);
        uint32_t at;
        memcpy(&at, r + 16 * (rlen / 32), 4);
        at += 8;
        memcpy(r + 16 * (rlen / 32), &at, 4);
    } else if (strcmp(mode, "shadow-slot") == 0) {
        /* a slot in the middle made odd: a register, which a suspended frame has not */
        uint8_t *r = record(buf, len, CACHE_TAG_SHADOW_SLOTS, &rlen);
        r[2 * (rlen / 4)] |= 1;
    } else if (strcmp(mode, "shadow-frame") == 0) {
        /* the first descriptor's frame size with a flag bit of the runtime's (debuginfo
           follows): the runtime would read past the descriptor */
        uint8_t *r = record(buf, len, CACHE_TAG_SHADOW, &rlen);
        r[0] |= 1;
    } else if (strcmp(mode, "runtime-address") == 0) {
        uint8_t *r = record(buf, len, CACHE_TAG_RUNTIME, &rlen);
        uint64_t outside = (uint64_t)1 << 40;
        memcpy(r + rlen - 8, &outside, 8);            /* the last address of the record */
    } else {
        fprintf(stderr, "cache_forge: unknown mode %s\n", mode);
        return 2;
    }
    seal(buf, len);
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cache_forge: cannot write %s\n", argv[1]);
        return 2;
    }
    return 0;
}
