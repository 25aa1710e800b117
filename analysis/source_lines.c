/* source_lines: see source_lines.h. */
#include "source_lines.h"

#include <elfutils/libdw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct source_lines {
    Dwarf *dbg;
};

struct source_lines *source_lines_open(const struct elf_image *img)
{
    if (!elf_image_has_dwarf(img))
        return NULL;
    Dwarf *dbg = dwarf_begin_elf(elf_image_elf(img), DWARF_C_READ, NULL);
    if (dbg == NULL)
        return NULL;
    struct source_lines *sl = malloc(sizeof *sl);
    if (sl == NULL) {
        dwarf_end(dbg);
        return NULL;
    }
    sl->dbg = dbg;
    return sl;
}

void source_lines_close(struct source_lines *sl)
{
    if (sl == NULL)
        return;
    dwarf_end(sl->dbg);
    free(sl);
}

int source_lines_at(struct source_lines *sl, uint64_t addr, char *buf, size_t len)
{
    if (sl == NULL)
        return -1;
    Dwarf_Die cu;
    if (dwarf_addrdie(sl->dbg, addr, &cu) == NULL)
        return -1;
    Dwarf_Line *line = dwarf_getsrc_die(&cu, addr);
    int lineno;
    const char *file = line ? dwarf_linesrc(line, NULL, NULL) : NULL;
    if (file == NULL || dwarf_lineno(line, &lineno) != 0 || lineno <= 0)
        return -1;
    const char *base = strrchr(file, '/');
    snprintf(buf, len, "%s:%d", base ? base + 1 : file, lineno);
    return 0;
}
