/* debuginfo: see debuginfo.h. Two formats, chosen by bit 31 of the second word:
 *   partially packed: line = (info2 >> 12) & 0x7FFFF, record = name_and_loc_info
 *                     { int32 filename_offs; uint16 start_chr, end_chr; int32 end_offset;
 *                       char name[] }
 *   fully packed:     line = info2 >> 19, record = name_info { int32 filename_offs;
 *                       char name[] }
 * In both, the record is at dbg + (info1 & 0x3FFFFFC) and the file name at
 * record + filename_offs. debuginfo_decode trusts its memory; debuginfo_decode_in_image
 * checks every derived pointer against the image's segments before reading through it. */
#include "debuginfo.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define PARTIALLY_PACKED 0x80000000u
#define RECORD_OFFSET_MASK 0x3FFFFFCu

/* The record of a slot and its two info words; NULL when the slot is empty. */
static const uint8_t *record_of(const uint32_t *slot, uint32_t *info1, uint32_t *info2)
{
    const uint8_t *dbg = (const uint8_t *)slot + *slot;
    memcpy(info1, dbg, 4);
    memcpy(info2, dbg + 4, 4);
    return dbg + (*info1 & RECORD_OFFSET_MASK);
}

int debuginfo_decode(const uint32_t *slot, struct source_location *out)
{
    if (slot == NULL || *slot == 0)
        return -1;
    const uint8_t *dbg = (const uint8_t *)slot + *slot;
    uint32_t info1, info2;
    memcpy(&info1, dbg, 4);
    memcpy(&info2, dbg + 4, 4);
    const uint8_t *record = dbg + (info1 & RECORD_OFFSET_MASK);
    int32_t filename_offs;
    memcpy(&filename_offs, record, 4);
    if (info2 & PARTIALLY_PACKED) {
        out->line = (int)((info2 >> 12) & 0x7FFFF);
        out->function = (const char *)record + 12;
    } else {
        out->line = (int)(info2 >> 19);
        out->function = (const char *)record + 4;
    }
    out->file = (const char *)record + filename_offs;
    return 0;
}

/* Is [p, p + len) inside one loadable segment of the image? */
static bool mapped(const struct elf_image *img, uintptr_t bias, const void *p, uint64_t len)
{
    uintptr_t at = (uintptr_t)p;
    return at >= bias && elf_image_in_segment(img, at - bias, len);
}

/* Does the string at p end inside its segment? */
static bool terminated(const struct elf_image *img, uintptr_t bias, const char *p)
{
    uint64_t end;
    if (!mapped(img, bias, p, 1) || elf_image_segment_end(img, (uintptr_t)p - bias, &end) != 0)
        return false;
    return memchr(p, '\0', (size_t)(end - ((uintptr_t)p - bias))) != NULL;
}

int debuginfo_decode_in_image(const uint32_t *slot, uintptr_t bias, const struct elf_image *img,
                              struct source_location *out)
{
    if (slot == NULL || !mapped(img, bias, slot, 4) || *slot == 0 ||
        !mapped(img, bias, (const uint8_t *)slot + *slot, 8))
        return -1;
    uint32_t info1, info2;
    const uint8_t *record = record_of(slot, &info1, &info2);
    size_t header = (info2 & PARTIALLY_PACKED) ? 12 : 4;
    if (!mapped(img, bias, record, header))
        return -1;
    int32_t filename_offs;
    memcpy(&filename_offs, record, 4);
    const char *file = (const char *)record + filename_offs;
    if (!terminated(img, bias, (const char *)record + header) || !terminated(img, bias, file))
        return -1;
    return debuginfo_decode(slot, out);
}

/* ---- inlining chains, read from the file's bytes ------------------------------------- */

#define HAS_NEXT_ITEM 1u
#define NAME_SEARCH_MAX 4096u         /* longer names are taken as corrupt */

/* The NUL-terminated string at link address `at` in the file, or NULL if it does not end
 * within NAME_SEARCH_MAX file-backed bytes of one segment. */
static const char *image_string(const struct elf_image *img, uint64_t at)
{
    uint64_t end;
    if (elf_image_segment_end(img, at, &end) != 0 || end <= at)
        return NULL;
    size_t n = end - at < NAME_SEARCH_MAX ? (size_t)(end - at) : NAME_SEARCH_MAX;
    const uint8_t *p = NULL;
    while (n > 0 && (p = elf_image_code(img, at, n)) == NULL)
        n /= 2;               /* the segment's file-backed part may end before its memsz */
    return p && memchr(p, '\0', n) ? (const char *)p : NULL;
}

/* One item at link address `item`: its location and whether another follows. */
static int chain_item(const struct elf_image *img, uint64_t item, struct source_location *out,
                      bool *more)
{
    const uint8_t *words = elf_image_code(img, item, 8);
    if (words == NULL)
        return -1;
    uint32_t info1, info2;
    memcpy(&info1, words, 4);
    memcpy(&info2, words + 4, 4);
    uint64_t record = item + (info1 & RECORD_OFFSET_MASK);
    bool partial = (info2 & PARTIALLY_PACKED) != 0;
    size_t header = partial ? 12 : 4;
    const uint8_t *rec = elf_image_code(img, record, header);
    if (rec == NULL)
        return -1;
    int32_t filename_offs;
    memcpy(&filename_offs, rec, 4);
    out->function = image_string(img, record + header);
    out->file = image_string(img, record + (uint64_t)(int64_t)filename_offs);
    if (out->function == NULL || out->file == NULL)
        return -1;
    out->line = partial ? (int)((info2 >> 12) & 0x7FFFF) : (int)(info2 >> 19);
    *more = (info1 & HAS_NEXT_ITEM) != 0;
    return 0;
}

int debuginfo_chain_each(const struct elf_image *img, uint64_t slot_link,
                         debuginfo_item_visit visit, void *ctx)
{
    const uint8_t *slot = elf_image_code(img, slot_link, 4);
    if (slot == NULL)
        return -1;
    uint32_t offset;
    memcpy(&offset, slot, 4);
    if (offset == 0)
        return 0;
    uint64_t item = slot_link + offset;
    for (int n = 0; n < DEBUGINFO_CHAIN_MAX; n++, item += 8) {
        struct source_location loc;
        bool more;
        if (chain_item(img, item, &loc, &more) != 0)
            return -1;
        if (visit(&loc, ctx) != 0 || !more)
            return n + 1;
    }
    return -1;
}
