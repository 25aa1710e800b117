/* exe_memory: the executable as the dynamic loader mapped it, from its program headers in
 * memory (dl_iterate_phdr): its load bias, loadable segments, TLS size and GNU build-id.
 * No file is read, no libelf: this is what the analysis cache's warm path checks cached
 * addresses against, and part of the cache's key.
 * Invariants: filled once at start-up (exe_memory_load), read-only afterwards; every
 * check takes link-time addresses (relative to the bias) and never wraps.
 */
#ifndef OCPREEMPT_EXE_MEMORY_H
#define OCPREEMPT_EXE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXE_SEGMENTS_MAX 16
#define BUILD_ID_MAX 64

struct exe_memory {
    uintptr_t bias;
    struct { uint64_t start, end; bool exec; } segment[EXE_SEGMENTS_MAX];
    size_t segment_count;
    uint64_t tls_size;
    uint8_t build_id[BUILD_ID_MAX];
    size_t build_id_len;              /* 0: none */
};

/* The main program's (first object), or, with `containing` non-NULL, the loaded object
 * holding that address (the engine itself). 0, or -1 if none matched. */
int exe_memory_load(struct exe_memory *out, const void *containing);

/* [rel, rel + len) inside one loadable segment / one executable one. */
bool exe_memory_in_image(const struct exe_memory *m, uint64_t rel, uint64_t len);
bool exe_memory_in_code(const struct exe_memory *m, uint64_t rel, uint64_t len);

/* The loadable (exec: executable) segment holding [rel, rel + len) as [*start, *end),
 * for a caller that checks many addresses against it inline. false if none holds it. */
bool exe_memory_segment_of(const struct exe_memory *m, uint64_t rel, uint64_t len, bool exec,
                           uint64_t *start, uint64_t *end);

#endif
