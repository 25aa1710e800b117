/* elf_image: a read-only view of one ELF file through libelf (see elf_image.h).
 *
 * Invariants kept by this file:
 *  - the file is mapped read-only by libelf (ELF_C_READ_MMAP) and every section or segment
 *    we later dereference was bounds-checked against the file size in elf_image_open(), so
 *    a truncated or corrupt file fails there with a reason instead of faulting later;
 *  - R_X86_64_RELATIVE addends are applied to reads only when the file does not already
 *    hold them (GNU ld writes the value in place, lld by default writes zero), and then
 *    from an array sorted by address so a read costs one binary search;
 *  - addresses and sizes from the file are compared by subtraction after an ordering test,
 *    never through a sum that could wrap (a relocation at 2^64 - 7 must not pass a bounds
 *    check); relocations whose word lies outside every segment are ignored, as no loader
 *    could apply them;
 *  - the name index is built once at open; the address index is built on the first
 *    elf_image_symbol_at() call (the probe needs it, the shim's start-up path does not).
 */
#include "elf_image.h"

#include <errno.h>
#include <fcntl.h>
#include "elfutils.h"     /* libelf, libdw: loaded on first use */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis_error.h"

struct load_segment {
    uint64_t vaddr, memsz, offset, filesz;
    uint32_t flags;                     /* PF_X | PF_W | PF_R */
};

struct relative_reloc {
    uint64_t where;     /* link-time address of the 8-byte word */
    uint64_t value;     /* the addend: the word's link-time value */
};

/* One ELF symbol table (.symtab or .dynsym) as it lies in the mapped file. */
struct symbol_table {
    const Elf64_Sym *syms;
    size_t count;
    const char *strtab;
    size_t strtab_size;
};

enum { TABLE_SYMTAB = 0, TABLE_DYNSYM = 1 };

/* A symbol reference packed in 32 bits: table in the top bit, index below. */
#define SYMREF_DYNSYM_BIT 0x80000000u
#define SYMREF_INDEX_MASK 0x7fffffffu

struct elf_image {
    char *path;
    int fd;
    Elf *elf;
    const uint8_t *file;
    size_t file_size;
    bool pie, dynamic, has_symtab, has_dwarf;

    struct load_segment *segments;
    size_t segment_count;
    bool has_tls;
    uint64_t tls_memsz, tls_align;
    uint64_t relro_start, relro_end;    /* PT_GNU_RELRO: read-only after relocation */

    struct relative_reloc *relocs;      /* sorted by where; NULL when values are in place */
    size_t reloc_count;

    struct symbol_table tables[2];
    uint32_t *name_slots;               /* open addressing: 0 empty, else symref + 1 */
    size_t name_mask;

    uint32_t *by_address;               /* symrefs sorted by value, built lazily */
    size_t by_address_count;
};

/* ---- small helpers ---------------------------------------------------------------- */

static bool range_in_file(const struct elf_image *img, uint64_t offset, uint64_t size)
{
    return offset <= img->file_size && size <= img->file_size - offset;
}

static const Elf64_Sym *symref_sym(const struct elf_image *img, uint32_t ref)
{
    const struct symbol_table *t = &img->tables[(ref & SYMREF_DYNSYM_BIT) ? TABLE_DYNSYM : TABLE_SYMTAB];
    return &t->syms[ref & SYMREF_INDEX_MASK];
}

static const char *symref_name(const struct elf_image *img, uint32_t ref)
{
    const struct symbol_table *t = &img->tables[(ref & SYMREF_DYNSYM_BIT) ? TABLE_DYNSYM : TABLE_SYMTAB];
    const Elf64_Sym *s = &t->syms[ref & SYMREF_INDEX_MASK];
    return s->st_name < t->strtab_size ? t->strtab + s->st_name : "";
}

static enum elf_symbol_kind symbol_kind(const Elf64_Sym *s)
{
    switch (ELF64_ST_TYPE(s->st_info)) {
    case STT_FUNC: return ELF_SYMBOL_FUNC;
    case STT_OBJECT: return ELF_SYMBOL_OBJECT;
    case STT_TLS: return ELF_SYMBOL_TLS;
    default: return ELF_SYMBOL_OTHER;
    }
}

static void fill_symbol(const struct elf_image *img, uint32_t ref, struct elf_symbol *out)
{
    const Elf64_Sym *s = symref_sym(img, ref);
    out->name = symref_name(img, ref);
    out->value = s->st_value;
    out->size = s->st_size;
    out->kind = symbol_kind(s);
    out->global = ELF64_ST_BIND(s->st_info) != STB_LOCAL;
}

/* Symbols worth indexing: defined, named, and not section/file markers. */
static bool symbol_is_indexable(const struct symbol_table *t, const Elf64_Sym *s)
{
    if (s->st_shndx == SHN_UNDEF || s->st_name == 0 || s->st_name >= t->strtab_size)
        return false;
    unsigned type = ELF64_ST_TYPE(s->st_info);
    return type != STT_SECTION && type != STT_FILE;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;                       /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* ---- opening: headers, segments, sections ------------------------------------------ */

static int check_header(struct elf_image *img, struct analysis_error *err)
{
    if (elf_kind(img->elf) != ELF_K_ELF) {
        analysis_error_set(err, "%s: not an ELF file", img->path);
        return -1;
    }
    if (gelf_getclass(img->elf) != ELFCLASS64) {
        analysis_error_set(err, "%s: not a 64-bit ELF file", img->path);
        return -1;
    }
    GElf_Ehdr eh;
    if (gelf_getehdr(img->elf, &eh) == NULL) {
        analysis_error_set(err, "%s: bad ELF header: %s", img->path, elf_errmsg(-1));
        return -1;
    }
    if (eh.e_machine != EM_X86_64) {
        analysis_error_set(err, "%s: not an x86-64 ELF file (e_machine %u)", img->path,
                           (unsigned)eh.e_machine);
        return -1;
    }
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
        analysis_error_set(err, "%s: not an executable or shared object (e_type %u)",
                           img->path, (unsigned)eh.e_type);
        return -1;
    }
    img->pie = eh.e_type == ET_DYN;   /* refined by PT_INTERP in read_segments() */
    /* libelf quietly reports zero sections when the section header table lies past the
     * end of a truncated file: check the header tables' extents ourselves. */
    if (!range_in_file(img, eh.e_phoff, (uint64_t)eh.e_phnum * eh.e_phentsize) ||
        (eh.e_shoff != 0 &&
         !range_in_file(img, eh.e_shoff, (uint64_t)eh.e_shnum * eh.e_shentsize))) {
        analysis_error_set(err, "%s: truncated: ELF header tables lie beyond the end of the "
                           "file (%zu bytes)", img->path, img->file_size);
        return -1;
    }
    return 0;
}

static int read_segments(struct elf_image *img, struct analysis_error *err)
{
    size_t phnum;
    if (elf_getphdrnum(img->elf, &phnum) != 0) {
        analysis_error_set(err, "%s: bad program headers: %s", img->path, elf_errmsg(-1));
        return -1;
    }
    img->segments = calloc(phnum ? phnum : 1, sizeof *img->segments);
    if (img->segments == NULL) {
        analysis_error_set(err, "%s: out of memory", img->path);
        return -1;
    }
    bool has_interp = false;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(img->elf, (int)i, &ph) == NULL) {
            analysis_error_set(err, "%s: bad program header %zu: %s", img->path, i,
                               elf_errmsg(-1));
            return -1;
        }
        if (ph.p_type == PT_INTERP)
            has_interp = true;
        if (ph.p_type == PT_GNU_RELRO && ph.p_vaddr + ph.p_memsz >= ph.p_vaddr) {
            img->relro_start = ph.p_vaddr;
            img->relro_end = ph.p_vaddr + ph.p_memsz;
        }
        if (ph.p_type == PT_TLS) {
            img->has_tls = true;
            img->tls_memsz = ph.p_memsz;
            img->tls_align = ph.p_align;
        }
        if (ph.p_type != PT_LOAD)
            continue;
        if (!range_in_file(img, ph.p_offset, ph.p_filesz)) {
            analysis_error_set(err, "%s: truncated: loadable segment at file offset 0x%llx "
                               "(+0x%llx) lies beyond the end of the file (%zu bytes)",
                               img->path, (unsigned long long)ph.p_offset,
                               (unsigned long long)ph.p_filesz, img->file_size);
            return -1;
        }
        if (ph.p_filesz > ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr) {
            analysis_error_set(err, "%s: corrupt loadable segment %zu", img->path, i);
            return -1;
        }
        img->segments[img->segment_count++] = (struct load_segment){
            ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, ph.p_flags};
    }
    if (img->segment_count == 0) {
        analysis_error_set(err, "%s: no loadable segments", img->path);
        return -1;
    }
    img->pie = img->pie && has_interp;
    img->dynamic = has_interp;
    return 0;
}

/* Raw, bounds-checked contents of a section; NULL with err set on failure. */
static const void *section_bytes(struct elf_image *img, Elf_Scn *scn, const GElf_Shdr *sh,
                                 const char *what, struct analysis_error *err)
{
    if (!range_in_file(img, sh->sh_offset, sh->sh_size)) {
        analysis_error_set(err, "%s: truncated: %s section lies beyond the end of the file",
                           img->path, what);
        return NULL;
    }
    Elf_Data *data = elf_getdata(scn, NULL);
    if (data == NULL || data->d_buf == NULL) {
        analysis_error_set(err, "%s: cannot read %s section: %s", img->path, what,
                           elf_errmsg(-1));
        return NULL;
    }
    if (data->d_size < sh->sh_size) {
        analysis_error_set(err, "%s: short %s section", img->path, what);
        return NULL;
    }
    return data->d_buf;
}

static int load_symbol_table(struct elf_image *img, Elf_Scn *scn, const GElf_Shdr *sh,
                             struct symbol_table *out, struct analysis_error *err)
{
    if (sh->sh_entsize != sizeof(Elf64_Sym)) {
        analysis_error_set(err, "%s: corrupt symbol table (entry size %llu)", img->path,
                           (unsigned long long)sh->sh_entsize);
        return -1;
    }
    const void *syms = section_bytes(img, scn, sh, "symbol table", err);
    if (syms == NULL)
        return -1;
    Elf_Scn *strscn = elf_getscn(img->elf, sh->sh_link);
    GElf_Shdr strsh;
    if (strscn == NULL || gelf_getshdr(strscn, &strsh) == NULL) {
        analysis_error_set(err, "%s: symbol table has no string table: %s", img->path,
                           elf_errmsg(-1));
        return -1;
    }
    if (strsh.sh_type != SHT_STRTAB || strsh.sh_size == 0) {
        analysis_error_set(err, "%s: corrupt symbol string table", img->path);
        return -1;
    }
    const char *strs = section_bytes(img, strscn, &strsh, "string table", err);
    if (strs == NULL)
        return -1;
    if (strs[strsh.sh_size - 1] != '\0') {
        analysis_error_set(err, "%s: corrupt symbol string table (not NUL-terminated)",
                           img->path);
        return -1;
    }
    size_t count = sh->sh_size / sizeof(Elf64_Sym);
    if (count > SYMREF_INDEX_MASK) {
        analysis_error_set(err, "%s: symbol table too large", img->path);
        return -1;
    }
    *out = (struct symbol_table){syms, count, strs, strsh.sh_size};
    return 0;
}

static int compare_relocs(const void *a, const void *b)
{
    const struct relative_reloc *x = a, *y = b;
    return x->where < y->where ? -1 : x->where > y->where;
}

/* The segment whose first `extent(s)` bytes hold all of [vaddr, vaddr + len), or NULL.
 * Written with subtractions only: vaddr and len come from the file and may be anything,
 * so `vaddr + len` or `vaddr - s->vaddr + len` could wrap (issue 9 item 3). */
static const struct load_segment *segment_holding(const struct elf_image *img, uint64_t vaddr,
                                                  uint64_t len, bool file_backed)
{
    for (size_t i = 0; i < img->segment_count; i++) {
        const struct load_segment *s = &img->segments[i];
        uint64_t extent = file_backed ? s->filesz : s->memsz;
        if (vaddr >= s->vaddr && len <= extent && vaddr - s->vaddr <= extent - len)
            return s;
    }
    return NULL;
}

static bool vaddr_to_file(const struct elf_image *img, uint64_t vaddr, uint64_t *offset)
{
    const struct load_segment *s = segment_holding(img, vaddr, 8, true);
    if (s == NULL)
        return false;
    *offset = vaddr - s->vaddr + s->offset;
    return true;
}

/* Appends the RELATIVE relocations of one SHT_RELA section whose target word in the file
 * does not already hold the addend. */
static int collect_relative_relocs(struct elf_image *img, Elf_Scn *scn, const GElf_Shdr *sh,
                                   size_t *capacity, struct analysis_error *err)
{
    if (sh->sh_entsize != sizeof(Elf64_Rela)) {
        analysis_error_set(err, "%s: corrupt relocation section (entry size %llu)",
                           img->path, (unsigned long long)sh->sh_entsize);
        return -1;
    }
    const Elf64_Rela *rela = section_bytes(img, scn, sh, "relocation", err);
    if (rela == NULL)
        return -1;
    size_t n = sh->sh_size / sizeof(Elf64_Rela);
    for (size_t i = 0; i < n; i++) {
        if (ELF64_R_TYPE(rela[i].r_info) != R_X86_64_RELATIVE)
            continue;
        /* A word outside every segment would fault the loader itself: not ours to apply. */
        if (segment_holding(img, rela[i].r_offset, 8, false) == NULL)
            continue;
        uint64_t off, in_file;
        if (vaddr_to_file(img, rela[i].r_offset, &off)) {
            memcpy(&in_file, img->file + off, sizeof in_file);
            if (in_file == (uint64_t)rela[i].r_addend)
                continue;              /* the linker wrote the value in place */
        }
        if (img->reloc_count == *capacity) {
            size_t cap = *capacity ? *capacity * 2 : 1024;
            struct relative_reloc *grown = realloc(img->relocs, cap * sizeof *grown);
            if (grown == NULL) {
                analysis_error_set(err, "%s: out of memory", img->path);
                return -1;
            }
            img->relocs = grown;
            *capacity = cap;
        }
        img->relocs[img->reloc_count++] =
            (struct relative_reloc){rela[i].r_offset, (uint64_t)rela[i].r_addend};
    }
    return 0;
}

static int read_sections(struct elf_image *img, struct analysis_error *err)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(img->elf, &shstrndx) != 0) {
        analysis_error_set(err, "%s: bad section header string index: %s", img->path,
                           elf_errmsg(-1));
        return -1;
    }
    size_t reloc_capacity = 0;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(img->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) == NULL) {
            analysis_error_set(err, "%s: bad section header: %s", img->path, elf_errmsg(-1));
            return -1;
        }
        if (sh.sh_type != SHT_NOBITS && !range_in_file(img, sh.sh_offset, sh.sh_size)) {
            analysis_error_set(err, "%s: truncated: section %zu lies beyond the end of the "
                               "file (%zu bytes)", img->path, elf_ndxscn(scn), img->file_size);
            return -1;
        }
        const char *name = elf_strptr(img->elf, shstrndx, sh.sh_name);
        if (name != NULL && strcmp(name, ".debug_info") == 0)
            img->has_dwarf = true;
        if (sh.sh_type == SHT_SYMTAB) {
            if (load_symbol_table(img, scn, &sh, &img->tables[TABLE_SYMTAB], err) != 0)
                return -1;
            img->has_symtab = img->tables[TABLE_SYMTAB].count > 1;
        } else if (sh.sh_type == SHT_DYNSYM) {
            if (load_symbol_table(img, scn, &sh, &img->tables[TABLE_DYNSYM], err) != 0)
                return -1;
        } else if (sh.sh_type == SHT_RELA && (sh.sh_flags & SHF_ALLOC)) {
            if (collect_relative_relocs(img, scn, &sh, &reloc_capacity, err) != 0)
                return -1;
        }
        /* SHT_RELR needs nothing: its addends are implicit, i.e. already in the file. */
    }
    if (img->reloc_count > 1)
        qsort(img->relocs, img->reloc_count, sizeof *img->relocs, compare_relocs);
    return 0;
}

/* ---- name index ------------------------------------------------------------------- */

static void name_index_insert(struct elf_image *img, uint32_t ref)
{
    size_t slot = name_hash(symref_name(img, ref)) & img->name_mask;
    while (img->name_slots[slot] != 0)
        slot = (slot + 1) & img->name_mask;
    img->name_slots[slot] = ref + 1;
}

static int build_name_index(struct elf_image *img, struct analysis_error *err)
{
    size_t total = img->tables[TABLE_SYMTAB].count + img->tables[TABLE_DYNSYM].count;
    size_t size = 16;
    while (size < 2 * total)
        size *= 2;
    img->name_slots = calloc(size, sizeof *img->name_slots);
    if (img->name_slots == NULL) {
        analysis_error_set(err, "%s: out of memory", img->path);
        return -1;
    }
    img->name_mask = size - 1;
    for (int t = TABLE_SYMTAB; t <= TABLE_DYNSYM; t++) {
        const struct symbol_table *tab = &img->tables[t];
        for (size_t i = 0; i < tab->count; i++)
            if (symbol_is_indexable(tab, &tab->syms[i]))
                name_index_insert(img, (uint32_t)i | (t == TABLE_DYNSYM ? SYMREF_DYNSYM_BIT : 0));
    }
    return 0;
}

/* ---- public: open / close / properties --------------------------------------------- */

int elf_image_open(const char *path, struct elf_image **out, struct analysis_error *err)
{
    *out = NULL;
    char why[256];
    if (elfutils_load(why, sizeof why) != 0) {
        analysis_error_set(err, "%s", why);
        return -1;
    }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        analysis_error_set(err, "libelf initialisation failed: %s", elf_errmsg(-1));
        return -1;
    }
    struct elf_image *img = calloc(1, sizeof *img);
    if (img == NULL || (img->path = strdup(path)) == NULL) {
        free(img);
        analysis_error_set(err, "%s: out of memory", path);
        return -1;
    }
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever;
     * the type check below then refuses it. It changes nothing for a regular file. */
    img->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (img->fd < 0) {
        analysis_error_set(err, "%s: cannot open: %s", path, strerror(errno));
        elf_image_close(img);
        return -1;
    }
    struct stat st;
    if (fstat(img->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        analysis_error_set(err, "%s: not a regular file", path);
        elf_image_close(img);
        return -1;
    }
    img->elf = elf_begin(img->fd, ELF_C_READ_MMAP, NULL);
    if (img->elf == NULL) {
        analysis_error_set(err, "%s: not a readable ELF file: %s", path, elf_errmsg(-1));
        elf_image_close(img);
        return -1;
    }
    img->file = (const uint8_t *)elf_rawfile(img->elf, &img->file_size);
    if (img->file == NULL) {
        analysis_error_set(err, "%s: cannot map file: %s", path, elf_errmsg(-1));
        elf_image_close(img);
        return -1;
    }
    if (check_header(img, err) != 0 || read_segments(img, err) != 0 ||
        read_sections(img, err) != 0 || build_name_index(img, err) != 0) {
        elf_image_close(img);
        return -1;
    }
    *out = img;
    return 0;
}

void elf_image_close(struct elf_image *img)
{
    if (img == NULL)
        return;
    if (img->elf != NULL)
        elf_end(img->elf);
    if (img->fd >= 0)
        close(img->fd);
    free(img->segments);
    free(img->relocs);
    free(img->name_slots);
    free(img->by_address);
    free(img->path);
    free(img);
}

const char *elf_image_path(const struct elf_image *img) { return img->path; }
bool elf_image_is_pie(const struct elf_image *img) { return img->pie; }
bool elf_image_has_symtab(const struct elf_image *img) { return img->has_symtab; }
bool elf_image_is_dynamic(const struct elf_image *img) { return img->dynamic; }

bool elf_image_exports(const struct elf_image *img, const char *name)
{
    const struct symbol_table *tab = &img->tables[TABLE_DYNSYM];
    for (size_t i = 0; i < tab->count; i++)
        if (symbol_is_indexable(tab, &tab->syms[i]) &&
            strcmp(tab->strtab + tab->syms[i].st_name, name) == 0)
            return true;
    return false;
}
bool elf_image_has_dwarf(const struct elf_image *img) { return img->has_dwarf; }
struct Elf *elf_image_elf(const struct elf_image *img) { return img->elf; }

int elf_image_tls(const struct elf_image *img, uint64_t *memsz, uint64_t *align)
{
    if (!img->has_tls)
        return -1;
    *memsz = img->tls_memsz;
    *align = img->tls_align;
    return 0;
}

/* ---- symbols ---------------------------------------------------------------------- */

/* Rank of a symbol among same-name or same-address rivals: prefer symtab globals with a
 * type and size over locals and untyped markers. */
static int symbol_rank(const struct elf_image *img, uint32_t ref)
{
    const Elf64_Sym *s = symref_sym(img, ref);
    int rank = 0;
    if (ELF64_ST_BIND(s->st_info) != STB_LOCAL)
        rank += 4;
    if (ELF64_ST_TYPE(s->st_info) == STT_FUNC || ELF64_ST_TYPE(s->st_info) == STT_OBJECT)
        rank += 2;
    if (s->st_size != 0)
        rank += 1;
    return rank;
}

int elf_image_symbol(const struct elf_image *img, const char *name, struct elf_symbol *out)
{
    size_t slot = name_hash(name) & img->name_mask;
    uint32_t best = 0;
    int best_rank = -1;
    for (; img->name_slots[slot] != 0; slot = (slot + 1) & img->name_mask) {
        uint32_t ref = img->name_slots[slot] - 1;
        if (strcmp(symref_name(img, ref), name) != 0)
            continue;
        int rank = symbol_rank(img, ref);
        if (rank > best_rank) {
            best = ref;
            best_rank = rank;
        }
    }
    if (best_rank < 0)
        return -1;
    fill_symbol(img, best, out);
    return 0;
}

int elf_image_each_symbol(const struct elf_image *img, elf_symbol_visit visit, void *ctx)
{
    /* .dynsym is a subset of .symtab when both exist: visit it only for stripped files. */
    int table = img->has_symtab ? TABLE_SYMTAB : TABLE_DYNSYM;
    const struct symbol_table *tab = &img->tables[table];
    for (size_t i = 0; i < tab->count; i++) {
        if (!symbol_is_indexable(tab, &tab->syms[i]))
            continue;
        struct elf_symbol sym;
        fill_symbol(img, (uint32_t)i | (table == TABLE_DYNSYM ? SYMREF_DYNSYM_BIT : 0), &sym);
        int r = visit(&sym, ctx);
        if (r != 0)
            return r;
    }
    return 0;
}

/* qsort has no context argument: sort (value, ref) pairs instead. */
struct address_key {
    uint64_t value;
    uint32_t ref;
    int rank;
};

static int compare_address_keys(const void *a, const void *b)
{
    const struct address_key *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return y->rank - x->rank;            /* best-ranked first among equal addresses */
}

static bool symbol_has_address(const Elf64_Sym *s)
{
    unsigned type = ELF64_ST_TYPE(s->st_info);
    return s->st_shndx != SHN_ABS && (type == STT_FUNC || type == STT_OBJECT || type == STT_NOTYPE);
}

static int build_address_index(struct elf_image *img)
{
    int table = img->has_symtab ? TABLE_SYMTAB : TABLE_DYNSYM;
    const struct symbol_table *tab = &img->tables[table];
    struct address_key *keys = malloc((tab->count ? tab->count : 1) * sizeof *keys);
    if (keys == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < tab->count; i++) {
        const Elf64_Sym *s = &tab->syms[i];
        if (!symbol_is_indexable(tab, s) || !symbol_has_address(s))
            continue;
        uint32_t ref = (uint32_t)i | (table == TABLE_DYNSYM ? SYMREF_DYNSYM_BIT : 0);
        keys[n++] = (struct address_key){s->st_value, ref, symbol_rank(img, ref)};
    }
    qsort(keys, n, sizeof *keys, compare_address_keys);
    uint32_t *refs = malloc((n ? n : 1) * sizeof *refs);
    if (refs == NULL) {
        free(keys);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        refs[i] = keys[i].ref;
    free(keys);
    img->by_address = refs;
    img->by_address_count = n;
    return 0;
}

int elf_image_symbol_at(const struct elf_image *img, uint64_t addr, struct elf_symbol *out)
{
    /* The index is a cache: building it does not change what the image describes. */
    struct elf_image *cache = (struct elf_image *)img;
    if (cache->by_address == NULL && build_address_index(cache) != 0)
        return -1;
    size_t lo = 0, hi = img->by_address_count;      /* first entry with value > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (symref_sym(img, img->by_address[mid])->st_value <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Among the symbols at the nearest address at or below addr (sorted best-ranked
     * first), return the first whose extent holds addr; an unsized marker (size 0)
     * holds everything up to the next symbol. */
    if (lo == 0)
        return -1;
    uint64_t nearest = symref_sym(img, img->by_address[lo - 1])->st_value;
    size_t first = lo - 1;
    while (first > 0 && symref_sym(img, img->by_address[first - 1])->st_value == nearest)
        first--;
    for (size_t i = first; i < lo; i++) {
        const Elf64_Sym *s = symref_sym(img, img->by_address[i]);
        if (s->st_size == 0 || addr - s->st_value < s->st_size) {
            fill_symbol(img, img->by_address[i], out);
            return 0;
        }
    }
    return -1;
}

/* ---- reading memory ------------------------------------------------------------- */

static void apply_relocs(const struct elf_image *img, uint64_t vaddr, uint8_t *buf, size_t len)
{
    if (img->reloc_count == 0)
        return;
    uint64_t from = vaddr >= 7 ? vaddr - 7 : 0;     /* a word starting up to 7 bytes before */
    size_t lo = 0, hi = img->reloc_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->relocs[mid].where < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < img->reloc_count && img->relocs[i].where < vaddr + len; i++) {
        uint8_t word[8];
        memcpy(word, &img->relocs[i].value, sizeof word);
        for (size_t b = 0; b < 8; b++) {
            uint64_t at = img->relocs[i].where + b;
            if (at >= vaddr && at < vaddr + len)
                buf[at - vaddr] = word[b];
        }
    }
}

int elf_image_read(const struct elf_image *img, uint64_t vaddr, void *buf, size_t len)
{
    if (vaddr + len < vaddr)
        return -1;
    uint8_t *dst = buf;
    uint64_t at = vaddr;
    size_t left = len;
    while (left > 0) {
        const struct load_segment *seg = NULL;
        for (size_t i = 0; i < img->segment_count; i++) {
            const struct load_segment *s = &img->segments[i];
            if (at >= s->vaddr && at - s->vaddr < s->memsz) {
                seg = s;
                break;
            }
        }
        if (seg == NULL)
            return -1;
        uint64_t in_seg = at - seg->vaddr;
        size_t chunk = (size_t)(seg->memsz - in_seg < left ? seg->memsz - in_seg : left);
        size_t from_file = 0;
        if (in_seg < seg->filesz)
            from_file = (size_t)(seg->filesz - in_seg < chunk ? seg->filesz - in_seg : chunk);
        memcpy(dst, img->file + seg->offset + in_seg, from_file);
        memset(dst + from_file, 0, chunk - from_file);    /* .bss */
        dst += chunk;
        at += chunk;
        left -= chunk;
    }
    apply_relocs(img, vaddr, buf, len);
    return 0;
}

const uint8_t *elf_image_code(const struct elf_image *img, uint64_t vaddr, size_t len)
{
    const struct load_segment *s = segment_holding(img, vaddr, len, true);
    return s ? img->file + s->offset + (vaddr - s->vaddr) : NULL;
}

bool elf_image_in_code(const struct elf_image *img, uint64_t vaddr, uint64_t len)
{
    const struct load_segment *s = segment_holding(img, vaddr, len, true);
    return s != NULL && (s->flags & PF_X) != 0;
}

bool elf_image_in_segment(const struct elf_image *img, uint64_t vaddr, uint64_t len)
{
    return segment_holding(img, vaddr, len, false) != NULL;
}

bool elf_image_in_writable(const struct elf_image *img, uint64_t vaddr, uint64_t len)
{
    const struct load_segment *s = segment_holding(img, vaddr, len, false);
    if (s == NULL || (s->flags & PF_W) == 0)
        return false;
    /* The loader makes RELRO read-only after relocating: writable only outside it. The
       range lies inside s, whose end was checked not to wrap, so vaddr + len is exact. */
    return vaddr + len <= img->relro_start || vaddr >= img->relro_end;
}

bool elf_image_in_tls(const struct elf_image *img, uint64_t offset, uint64_t len)
{
    return img->has_tls && len <= img->tls_memsz && offset <= img->tls_memsz - len;
}

int elf_image_segment_end(const struct elf_image *img, uint64_t vaddr, uint64_t *end)
{
    for (size_t i = 0; i < img->segment_count; i++) {
        const struct load_segment *s = &img->segments[i];
        if (vaddr >= s->vaddr && vaddr - s->vaddr < s->memsz) {
            *end = s->vaddr + s->memsz;
            return 0;
        }
    }
    return -1;
}

size_t elf_image_pending_relocs(const struct elf_image *img) { return img->reloc_count; }
