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
