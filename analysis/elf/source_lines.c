/* source_lines: see source_lines.h. */
#include "source_lines.h"

#include "elfutils.h"     /* libelf, libdw: loaded on first use */
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

int source_lines_find(struct source_lines *sl, uint64_t addr, const char **file, int *line)
{
    if (sl == NULL)
        return -1;
    Dwarf_Die cu;
    if (dwarf_addrdie(sl->dbg, addr, &cu) == NULL)
        return -1;
    Dwarf_Line *found = dwarf_getsrc_die(&cu, addr);
    int lineno;
    const char *path = found ? dwarf_linesrc(found, NULL, NULL) : NULL;
    if (path == NULL || dwarf_lineno(found, &lineno) != 0 || lineno <= 0)
        return -1;
    const char *base = strrchr(path, '/');
    *file = base ? base + 1 : path;
    *line = lineno;
    return 0;
}

int source_lines_at(struct source_lines *sl, uint64_t addr, char *buf, size_t len)
{
    const char *file;
    int line;
    if (source_lines_find(sl, addr, &file, &line) != 0)
        return -1;
    snprintf(buf, len, "%s:%d", file, line);
    return 0;
}
