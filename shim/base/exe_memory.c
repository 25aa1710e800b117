/* exe_memory: see exe_memory.h. */
#define _GNU_SOURCE
#include "exe_memory.h"

#include <elf.h>
#include <link.h>
#include <string.h>

struct search {
    struct exe_memory *out;
    uintptr_t containing;             /* 0: the first object */
    bool found;
};

static void read_build_id(struct exe_memory *m, const ElfW(Phdr) *ph, uintptr_t base)
{
    const uint8_t *p = (const uint8_t *)(base + ph->p_vaddr);
    size_t left = ph->p_memsz;
    while (left >= sizeof(ElfW(Nhdr))) {
        const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
        size_t name = (n->n_namesz + 3) & ~(size_t)3, desc = (n->n_descsz + 3) & ~(size_t)3;
        if (name > left - sizeof *n || desc > left - sizeof *n - name)
            return;
        if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
            memcmp(p + sizeof *n, "GNU", 4) == 0 && n->n_descsz <= BUILD_ID_MAX) {
            memcpy(m->build_id, p + sizeof *n + name, n->n_descsz);
            m->build_id_len = n->n_descsz;
            return;
        }
        p += sizeof *n + name + desc;
        left -= sizeof *n + name + desc;
    }
}

static bool holds(const struct dl_phdr_info *info, uintptr_t addr)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && addr >= start && addr - start < ph->p_memsz)
            return true;
    }
    return false;
}

static int visit(struct dl_phdr_info *info, size_t size, void *p)
{
    (void)size;
    struct search *s = p;
    if (s->containing && !holds(info, s->containing))
        return 0;
    struct exe_memory *m = s->out;
    memset(m, 0, sizeof *m);
    m->bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && m->segment_count < EXE_SEGMENTS_MAX &&
            ph->p_vaddr + ph->p_memsz >= ph->p_vaddr)
            m->segment[m->segment_count++] = (typeof(m->segment[0])){
                ph->p_vaddr, ph->p_vaddr + ph->p_memsz, (ph->p_flags & PF_X) != 0 };
        else if (ph->p_type == PT_TLS)
            m->tls_size = ph->p_memsz;
        else if (ph->p_type == PT_NOTE && m->build_id_len == 0)
            read_build_id(m, ph, info->dlpi_addr);
    }
    s->found = true;
    return 1;
}

int exe_memory_load(struct exe_memory *out, const void *containing)
{
    struct search s = { out, (uintptr_t)containing, false };
    dl_iterate_phdr(visit, &s);
    return s.found ? 0 : -1;
}

static bool in_segment(const struct exe_memory *m, size_t i, uint64_t rel, uint64_t len,
                       bool exec)
{
    return (!exec || m->segment[i].exec) && rel >= m->segment[i].start &&
           rel <= m->segment[i].end && len <= m->segment[i].end - rel;
}

static bool in_segments(const struct exe_memory *m, uint64_t rel, uint64_t len, bool exec)
{
    /* A restore checks tens of thousands of code addresses, then as many debuginfo slots
       in another segment: try the segment that answered last for the same question. */
    static size_t last[2];            /* start-up only: one thread */
    if (last[exec] < m->segment_count && in_segment(m, last[exec], rel, len, exec))
        return true;
    for (size_t i = 0; i < m->segment_count; i++)
        if (in_segment(m, i, rel, len, exec)) {
            last[exec] = i;
            return true;
        }
    return false;
}

bool exe_memory_in_image(const struct exe_memory *m, uint64_t rel, uint64_t len)
{
    return in_segments(m, rel, len, false);
}

bool exe_memory_in_code(const struct exe_memory *m, uint64_t rel, uint64_t len)
{
    return in_segments(m, rel, len, true);
}

bool exe_memory_segment_of(const struct exe_memory *m, uint64_t rel, uint64_t len, bool exec,
                           uint64_t *start, uint64_t *end)
{
    for (size_t i = 0; i < m->segment_count; i++)
        if (in_segment(m, i, rel, len, exec)) {
            *start = m->segment[i].start;
            *end = m->segment[i].end;
            return true;
        }
    return false;
}
