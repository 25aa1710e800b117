/* elf_mutate: locating and overwriting what readers trust in a real executable (see
 * elf_mutate.h). Locators open the original file with libelf (and libdw, the analysis
 * library for frame tables) afresh each call: they run once per test or per seed, so
 * simplicity beats speed here.
 */
#include "elf_mutate.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_image.h"
#include "frametable.h"
#include "frametable_image.h"

/* ---- blobs ------------------------------------------------------------------------- */

int blob_load(const char *path, struct blob *b)
{
    memset(b, 0, sizeof *b);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size <= 0 || fseek(f, 0, SEEK_SET) != 0 || (b->bytes = malloc((size_t)size)) == NULL ||
        fread(b->bytes, 1, (size_t)size, f) != (size_t)size) {
        free(b->bytes);
        b->bytes = NULL;
        fclose(f);
        return -1;
    }
    fclose(f);
    b->size = (size_t)size;
    return 0;
}

int blob_save(const struct blob *b, size_t len, const char *path)
{
    if (len > b->size)
        len = b->size;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, b->bytes + done, len - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    return close(fd);
}

void blob_free(struct blob *b)
{
    free(b->bytes);
    b->bytes = NULL;
    b->size = 0;
}

int blob_put(struct blob *b, long offset, uint64_t value, size_t len)
{
    if (offset < 0 || len > 8 || (size_t)offset > b->size || len > b->size - (size_t)offset)
        return -1;
    for (size_t i = 0; i < len; i++)
        b->bytes[offset + (long)i] = (uint8_t)(value >> (8 * i));
    return 0;
}

/* ---- libelf on the original file ------------------------------------------------------ */

struct opened {
    int fd;
    Elf *elf;
};

static int open_elf(const char *path, struct opened *o)
{
    elf_version(EV_CURRENT);
    o->fd = open(path, O_RDONLY);
    if (o->fd < 0)
        return -1;
    o->elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL);
    if (o->elf == NULL || elf_kind(o->elf) != ELF_K_ELF) {
        if (o->elf)
            elf_end(o->elf);
        close(o->fd);
        return -1;
    }
    return 0;
}

static void close_elf(struct opened *o)
{
    elf_end(o->elf);
    close(o->fd);
}

long mutate_vaddr_offset(const char *path, uint64_t vaddr)
{
    struct opened o;
    if (open_elf(path, &o) != 0)
        return -1;
    size_t n = 0;
    long result = -1;
    if (elf_getphdrnum(o.elf, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(o.elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
                vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz)
                result = (long)(ph.p_offset + (vaddr - ph.p_vaddr));
        }
    }
    close_elf(&o);
    return result;
}

uint64_t mutate_relro_start(const char *path)
{
    struct opened o;
    if (open_elf(path, &o) != 0)
        return 0;
    size_t n = 0;
    uint64_t start = 0;
    if (elf_getphdrnum(o.elf, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(o.elf, (int)i, &ph) && ph.p_type == PT_GNU_RELRO)
                start = ph.p_vaddr;
        }
    }
    close_elf(&o);
    return start;
}

uint64_t mutate_image_end(const char *path)
{
    struct opened o;
    if (open_elf(path, &o) != 0)
        return 0;
    size_t n = 0;
    uint64_t end = 0;
    if (elf_getphdrnum(o.elf, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(o.elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
                ph.p_vaddr + ph.p_memsz > end)
                end = ph.p_vaddr + ph.p_memsz;
        }
    }
    close_elf(&o);
    return end;
}

/* Exact, or a prefix when the pattern ends with '*'. */
static bool name_matches(const char *name, const char *pattern)
{
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(name, pattern, n - 1) == 0;
    return strcmp(name, pattern) == 0;
}

long mutate_symbol_field(const char *path, const char *name, int field)
{
    struct opened o;
    if (open_elf(path, &o) != 0)
        return -1;
    long result = -1;
    Elf_Scn *scn = NULL;
    while (result < 0 && (scn = elf_nextscn(o.elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        for (size_t i = 0; data != NULL && i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym sym;
            const char *n;
            if (gelf_getsym(data, (int)i, &sym) == NULL ||
                (n = elf_strptr(o.elf, sh.sh_link, sym.st_name)) == NULL || !name_matches(n, name))
                continue;
            result = (long)(sh.sh_offset + i * sh.sh_entsize +
                            (field == 0 ? offsetof(Elf64_Sym, st_value)
                                        : offsetof(Elf64_Sym, st_size)));
            break;
        }
    }
    close_elf(&o);
    return result;
}

/* The n-th RELATIVE entry, or (when `at` is not 0) the one whose r_offset is `at`. */
static long find_relative_reloc(const char *path, size_t n, uint64_t at, size_t *total)
{
    struct opened o;
    if (open_elf(path, &o) != 0)
        return -1;
    long result = -1;
    size_t seen = 0;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(o.elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_RELA ||
            !(sh.sh_flags & SHF_ALLOC) || sh.sh_entsize != sizeof(Elf64_Rela))
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        for (size_t i = 0; data != NULL && i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Rela r;
            if (gelf_getrela(data, (int)i, &r) == NULL ||
                GELF_R_TYPE(r.r_info) != R_X86_64_RELATIVE)
                continue;
            if (at != 0 ? r.r_offset == at && result < 0 : seen == n)
                result = (long)(sh.sh_offset + i * sh.sh_entsize);
            seen++;
        }
    }
    if (total)
        *total = seen;
    close_elf(&o);
    return result;
}

long mutate_relative_reloc(const char *path, size_t n, size_t *total)
{
    return find_relative_reloc(path, n, 0, total);
}

long mutate_relative_reloc_at(const char *path, uint64_t vaddr)
{
    return find_relative_reloc(path, 0, vaddr, NULL);
}

size_t mutate_section_count(const char *path)
{
    struct opened o;
    if (open_elf(path, &o) != 0)
        return 0;
    size_t n = 0;
    if (elf_getshdrnum(o.elf, &n) != 0)
        n = 0;
    close_elf(&o);
    return n;
}

long mutate_section(const char *path, size_t index, size_t *size, char *name, size_t name_len)
{
    struct opened o;
    if (open_elf(path, &o) != 0)
        return -1;
    long result = -1;
    size_t shstrndx;
    Elf_Scn *scn = elf_getscn(o.elf, index);
    GElf_Shdr sh;
    if (index > 0 && scn != NULL && gelf_getshdr(scn, &sh) != NULL && sh.sh_type != SHT_NOBITS &&
        sh.sh_size > 0 && elf_getshdrstrndx(o.elf, &shstrndx) == 0) {
        const char *n = elf_strptr(o.elf, shstrndx, sh.sh_name);
        if (name != NULL)
            snprintf(name, name_len, "%s", n ? n : "?");
        *size = sh.sh_size;
        result = (long)sh.sh_offset;
    }
    close_elf(&o);
    return result;
}

long mutate_section_named(const char *path, const char *name, size_t *size)
{
    size_t count = mutate_section_count(path);
    for (size_t i = 1; i < count; i++) {
        char n[64];
        long off = mutate_section(path, i, size, n, sizeof n);
        if (off >= 0 && strcmp(n, name) == 0)
            return off;
    }
    return -1;
}

/* ---- frame descriptors --------------------------------------------------------------- */

struct retaddr_search {
    const struct elf_image *img;
    const char *prefix;                  /* poll/alloc sites in PREFIX* only; NULL: all */
    const struct frametable_module *module;
    uint64_t *words;                     /* link-time addresses of return-address words */
    size_t max, count;
};

static bool descriptor_wanted(const struct retaddr_search *s, const struct frame_descr_view *d)
{
    if (s->prefix == NULL)
        return d->kind != SITE_RETURN_TO_C;
    struct elf_symbol fn;
    return (d->kind == SITE_POLL || d->kind == SITE_ALLOC) &&
           elf_image_symbol_at(s->img, d->retaddr, &fn) == 0 &&
           strncmp(fn.name, s->prefix, strlen(s->prefix)) == 0;
}

static int match_descriptor(const struct frame_descr_view *d, void *ctx)
{
    struct retaddr_search *s = ctx;
    if (!descriptor_wanted(s, d))
        return 0;
    /* live_ofs follows the 12-byte header: that gives the descriptor's own position */
    const uint8_t *descr = (const uint8_t *)d->live_ofs - 12;
    s->words[s->count++] = s->module->table_addr + (uint64_t)(descr - s->module->bytes);
    return s->count == s->max ? 1 : 0;
}

static int search_module(const struct frametable_module *m, void *ctx)
{
    struct retaddr_search *s = ctx;
    s->module = m;
    return frametable_each(m->bytes, m->length, match_descriptor, s) == 1 ? 1 : 0;
}

static size_t search_descriptors(const char *path, const char *prefix, uint64_t *words,
                                 size_t max)
{
    struct elf_image *img;
    struct analysis_error err;
    if (max == 0 || elf_image_open(path, &img, &err) != 0)
        return 0;
    struct retaddr_search s = {img, prefix, NULL, words, max, 0};
    frametable_image_each(img, search_module, &s, &err);
    elf_image_close(img);
    return s.count;
}

uint64_t mutate_safepoint_retaddr(const char *path, const char *prefix)
{
    uint64_t word = 0;
    return search_descriptors(path, prefix, &word, 1) == 1 ? word : 0;
}

size_t mutate_descriptor_words(const char *path, uint64_t *words, size_t max)
{
    return search_descriptors(path, NULL, words, max);
}

/* ---- DWARF ----------------------------------------------------------------------------- */

static size_t form_bytes(unsigned form)
{
    switch (form) {
    case DW_FORM_data1: return 1;
    case DW_FORM_data2: return 2;
    case DW_FORM_data4: return 4;
    case DW_FORM_data8: return 8;
    default: return 0;                 /* udata, implicit_const...: not patched in place */
    }
}

struct member_search {
    const uint8_t *file;
    const char *member;
    long *offsets;
    size_t *value_bytes;
    size_t max, count;
};

static void note_member(struct member_search *s, Dwarf_Die *st)
{
    Dwarf_Die child;
    if (dwarf_child(st, &child) != 0)
        return;
    do {
        const char *n = dwarf_diename(&child);
        Dwarf_Attribute attr;
        if (dwarf_tag(&child) != DW_TAG_member || n == NULL || strcmp(n, s->member) != 0 ||
            dwarf_attr(&child, DW_AT_data_member_location, &attr) == NULL ||
            form_bytes(attr.form) == 0)
            continue;
        long off = (long)(attr.valp - s->file);
        for (size_t i = 0; i < s->count; i++)
            if (s->offsets[i] == off)
                return;
        if (s->count < s->max) {
            s->offsets[s->count] = off;
            s->value_bytes[s->count] = form_bytes(attr.form);
            s->count++;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

static void search_cu(struct member_search *s, Dwarf_Die *cu)
{
    Dwarf_Die die;
    if (dwarf_child(cu, &die) != 0)
        return;
    do {
        const char *n = dwarf_diename(&die);
        Dwarf_Attribute attr;
        Dwarf_Die st;
        if (dwarf_tag(&die) == DW_TAG_typedef && n != NULL &&
            strcmp(n, "caml_domain_state") == 0 && dwarf_attr(&die, DW_AT_type, &attr) &&
            dwarf_formref_die(&attr, &st) && dwarf_tag(&st) == DW_TAG_structure_type)
            note_member(s, &st);
    } while (dwarf_siblingof(&die, &die) == 0);
}

size_t mutate_layout_member(const char *path, const char *member, long *offsets,
                            size_t *value_bytes, size_t max)
{
    struct opened o;
    if (open_elf(path, &o) != 0)
        return 0;
    size_t file_size;
    struct member_search s = {(const uint8_t *)elf_rawfile(o.elf, &file_size), member,
                              offsets, value_bytes, max, 0};
    Dwarf *dbg = dwarf_begin_elf(o.elf, DWARF_C_READ, NULL);
    if (dbg != NULL) {
        Dwarf_Off off = 0, next;
        size_t header;
        while (dwarf_nextcu(dbg, off, &next, &header, NULL, NULL, NULL) == 0) {
            Dwarf_Die cu;
            if (dwarf_offdie(dbg, off + header, &cu) != NULL)
                search_cu(&s, &cu);
            off = next;
        }
        dwarf_end(dbg);
    }
    close_elf(&o);
    /* An offset outside the raw file means libdw read a decompressed copy. */
    for (size_t i = 0; i < s.count; i++)
        if (offsets[i] < 0 || (size_t)offsets[i] >= file_size)
            return 0;
    return s.count;
}
