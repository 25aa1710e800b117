/* debuginfo: see debuginfo.h. Two formats, chosen by bit 31 of the second word:
 *   partially packed: line = (info2 >> 12) & 0x7FFFF, record = name_and_loc_info
 *                     { int32 filename_offs; uint16 start_chr, end_chr; int32 end_offset;
 *                       char name[] }
 *   fully packed:     line = info2 >> 19, record = name_info { int32 filename_offs;
 *                       char name[] }
 * In both, the record is at dbg + (info1 & 0x3FFFFFC) and the file name at
 * record + filename_offs. */
#include "debuginfo.h"

#include <stddef.h>
#include <string.h>

#define PARTIALLY_PACKED 0x80000000u
#define RECORD_OFFSET_MASK 0x3FFFFFCu

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
