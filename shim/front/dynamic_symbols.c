/* dynamic_symbols: see dynamic_symbols.h. The hash functions and table layouts are the
 * ELF gABI's (DT_HASH) and GNU's (DT_GNU_HASH: bloom filter, buckets, chains whose low
 * bit ends a bucket's run). */
#define _GNU_SOURCE
#include "dynamic_symbols.h"

#include <link.h>
#include <string.h>

/* dl_iterate_phdr visits the main program first. */
static int first_object(struct dl_phdr_info *info, size_t size, void *out)
{
    (void)size;
    *(struct dl_phdr_info *)out = *info;
    return 1;
}

/* glibc rebases the d_ptr entries of a writable dynamic section in place; a read-only one
 * keeps link-time values. A link-time address of a PIE is below its load bias. */
static uintptr_t dynamic_pointer(uintptr_t value, uintptr_t bias)
{
    return value < bias ? value + bias : value;
}

int dynamic_symbols_of_program(struct dynamic_symbols *out)
{
    struct dl_phdr_info info = {0};
    memset(out, 0, sizeof *out);
    if (dl_iterate_phdr(first_object, &info) == 0 || info.dlpi_phdr == NULL)
        return -1;
    const Elf64_Dyn *dyn = NULL;
    for (size_t i = 0; i < info.dlpi_phnum; i++) {
        const Elf64_Phdr *ph = &info.dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const Elf64_Dyn *)(info.dlpi_addr + ph->p_vaddr);
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_R) &&
            out->readable_count < DYNAMIC_SYMBOLS_MAX_SEGMENTS) {
            uintptr_t start = info.dlpi_addr + ph->p_vaddr;
            out->readable[out->readable_count].start = start;
            out->readable[out->readable_count].end = start + ph->p_memsz;
            out->readable_count++;
        }
    }
    if (dyn == NULL)
        return -1;
    out->bias = info.dlpi_addr;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t p = dynamic_pointer(dyn->d_un.d_ptr, out->bias);
        switch (dyn->d_tag) {
        case DT_SYMTAB: out->symtab = (const Elf64_Sym *)p; break;
        case DT_STRTAB: out->strtab = (const char *)p; break;
        case DT_STRSZ: out->strtab_size = dyn->d_un.d_val; break;
        case DT_GNU_HASH: out->gnu_hash = (const uint32_t *)p; break;
        case DT_HASH: out->sysv_hash = (const uint32_t *)p; break;
        default: break;
        }
    }
    if (out->symtab == NULL || out->strtab == NULL || out->strtab_size == 0 ||
        (out->gnu_hash == NULL && out->sysv_hash == NULL))
        return -1;
    return 0;
}

bool dynamic_symbols_readable(const struct dynamic_symbols *d, const void *addr, size_t len)
{
    uintptr_t a = (uintptr_t)addr;
    for (size_t i = 0; i < d->readable_count; i++)
        if (a >= d->readable[i].start && a <= d->readable[i].end &&
            len <= d->readable[i].end - a)
            return true;
    return false;
}

static bool symbol_is(const struct dynamic_symbols *d, const Elf64_Sym *s, const char *name)
{
    return s->st_name < d->strtab_size && s->st_shndx != SHN_UNDEF &&
           strcmp(d->strtab + s->st_name, name) == 0;
}

static uint32_t gnu_hash_of(const char *name)
{
    uint32_t h = 5381;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = h * 33 + *c;
    return h;
}

static const Elf64_Sym *gnu_lookup(const struct dynamic_symbols *d, const char *name)
{
    const uint32_t *t = d->gnu_hash;
    uint32_t nbuckets = t[0], symoffset = t[1], bloom_size = t[2], bloom_shift = t[3];
    if (nbuckets == 0 || bloom_size == 0)
        return NULL;
    const uint64_t *bloom = (const uint64_t *)(t + 4);
    const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
    const uint32_t *chain = buckets + nbuckets;
    uint32_t h = gnu_hash_of(name);
    uint64_t word = bloom[(h / 64) % bloom_size];
    uint64_t mask = (1ULL << (h % 64)) | (1ULL << ((h >> bloom_shift) % 64));
    if ((word & mask) != mask)
        return NULL;                        /* the usual answer: one cache line read */
    uint32_t i = buckets[h % nbuckets];
    if (i < symoffset)
        return NULL;
    for (;; i++) {
        uint32_t ch = chain[i - symoffset];
        if ((ch | 1) == (h | 1) && symbol_is(d, &d->symtab[i], name))
            return &d->symtab[i];
        if (ch & 1)
            return NULL;
    }
}

static uint32_t sysv_hash_of(const char *name)
{
    uint32_t h = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        h = (h << 4) + *c;
        uint32_t g = h & 0xf0000000u;
        if (g)
            h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

static const Elf64_Sym *sysv_lookup(const struct dynamic_symbols *d, const char *name)
{
    const uint32_t *t = d->sysv_hash;
    uint32_t nbucket = t[0], nchain = t[1];
    if (nbucket == 0)
        return NULL;
    const uint32_t *buckets = t + 2, *chains = buckets + nbucket;
    for (uint32_t i = buckets[sysv_hash_of(name) % nbucket]; i != 0 && i < nchain;
         i = chains[i])
        if (symbol_is(d, &d->symtab[i], name))
            return &d->symtab[i];
    return NULL;
}

const void *dynamic_symbols_find(const struct dynamic_symbols *d, const char *name,
                                 size_t *size)
{
    const Elf64_Sym *s = d->gnu_hash ? gnu_lookup(d, name) : sysv_lookup(d, name);
    if (s == NULL)
        return NULL;
    if (size)
        *size = s->st_size;
    return (const void *)(d->bias + s->st_value);
}
