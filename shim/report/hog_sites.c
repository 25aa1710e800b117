/* hog_sites: see hog_sites.h.
 *
 * Memory: the per-site line array and the file-name pool are allocated once by
 * hog_sites_prepare and never freed (the exit report reads them). Poll lines are stored
 * compactly (file index + line) rather than as strings: a large binary has 10^5 sites. */
#define _GNU_SOURCE
#include "hog_sites.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debuginfo.h"
#include "log.h"
#include "runtime.h"
#include "site_table.h"
#include "source_lines.h"
#include "thread_registry.h"

struct poll_line {
    uint32_t file;                /* 1 + index into files; 0: no line known */
    uint32_t line;
};

static struct poll_line *poll_lines;  /* parallel to the site table; NULL: no lines */
static char **files;                  /* distinct base names */
static size_t file_count, file_capacity;

/* ---- start-up ------------------------------------------------------------------------ */

/* Where in the function body the site is: caml_call_gc calls are emitted out of line at
 * the function's end, and their `jmp` goes back to the poll or allocation in the body;
 * -compact allocation calls are in the body already. */
static uintptr_t body_address(const struct safepoint *s)
{
    uintptr_t retaddr = site_table_retaddr(s);
    const uint8_t *at = (const uint8_t *)retaddr;
    if (s->shape != SHAPE_CALL_GC_THEN_JMP)
        return retaddr;
    if (at[0] == 0xEB)
        return retaddr + 2 + (int8_t)at[1];
    int32_t rel;
    memcpy(&rel, at + 1, 4);
    return retaddr + 5 + rel;
}

/* 1 + the pool index of `name`, adding it if new; 0 when out of memory. Consecutive
 * look-ups mostly hit the same compilation unit, so the last answer is tried first. */
static uint32_t intern_file(const char *name)
{
    static uint32_t last;
    if (last && strcmp(files[last - 1], name) == 0)
        return last;
    for (size_t i = 0; i < file_count; i++)
        if (strcmp(files[i], name) == 0)
            return last = (uint32_t)(i + 1);
    if (file_count == file_capacity) {
        size_t cap = file_capacity ? file_capacity * 2 : 64;
        char **grown = realloc(files, cap * sizeof *grown);
        if (!grown)
            return 0;
        files = grown;
        file_capacity = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return 0;
    files[file_count++] = copy;
    return last = (uint32_t)file_count;
}

/* The DWARF line of every preemptible site without debuginfo. libdw allocates as it parses; all of
 * it is released here, before the program runs. */
static void resolve_poll_lines(const struct elf_image *img)
{
    size_t n = site_table_size();
    struct source_lines *sl = source_lines_open(img);
    if (!sl || n == 0) {
        source_lines_close(sl);
        return;
    }
    poll_lines = calloc(n, sizeof *poll_lines);
    if (!poll_lines) {
        source_lines_close(sl);
        return;
    }
    size_t named = 0;
    for (size_t i = 0; i < n; i++) {
        const struct safepoint *s = site_table_site(i);
        struct source_location loc;
        /* A refused site is never preempted, so never a hog: skipping them also spares
           parsing the line tables of deny-listed modules. */
        if (s->refusal != SITE_OK || debuginfo_decode(site_table_debuginfo(s), &loc) == 0)
            continue;
        const char *file;
        int line;
        if (source_lines_find(sl, body_address(s) - ocaml_rt.bias, &file, &line) != 0)
            continue;
        poll_lines[i] = (struct poll_line){ intern_file(file), (uint32_t)line };
        named++;
    }
    source_lines_close(sl);
    log_debug("stats: named %zu of %zu sites from DWARF (%zu files)", named, n, file_count);
}

void hog_sites_prepare(const struct elf_image *img, bool lines)
{
    uint64_t t0 = monotonic_ns();
    /* Builds the symbol index now (elf_image_symbol_at builds it on first use): from
       here on function names are a read-only binary search, safe from several domains'
       hooks at once and at exit. */
    site_table_function_name(ocaml_rt.bias, NULL);
    if (lines)
        resolve_poll_lines(img);
    log_debug("stats: site names prepared in %llu us",
              (unsigned long long)((monotonic_ns() - t0) / 1000));
}

/* ---- exit ------------------------------------------------------------------------------ */

static void describe_site(size_t index, unsigned long count, struct site_report *out)
{
    const struct safepoint *s = site_table_site(index);
    struct source_location loc;
    out->count = count;
    out->kind = s->kind;
    out->function = site_table_function_name(site_table_retaddr(s), NULL);
    if (debuginfo_decode(site_table_debuginfo(s), &loc) == 0) {
        out->function = loc.function;
        snprintf(out->location, sizeof out->location, "%s:%d", loc.file, loc.line);
    } else if (poll_lines && poll_lines[index].file) {
        snprintf(out->location, sizeof out->location, "%s:%u",
                 files[poll_lines[index].file - 1], poll_lines[index].line);
    } else {
        snprintf(out->location, sizeof out->location, "?");
    }
}

void hog_sites_describe(uintptr_t retaddr, struct site_report *out)
{
    const struct safepoint *s = retaddr ? site_table_find(retaddr) : NULL;
    if (!s) {
        out->count = 0;
        out->kind = 0;
        out->function = "?";
        snprintf(out->location, sizeof out->location, "?");
        return;
    }
    describe_site((size_t)(s - site_table_site(0)), site_table_hits((size_t)(s - site_table_site(0))), out);
}

/* Selection by repeated maximum over the sites preempted at least once: max is small
 * (10) and so, in practice, is the number of such sites. Ties go to the lower table
 * index, as the ordering (count, index) is strict. */
size_t hog_sites_top(struct site_report *out, size_t max)
{
    size_t n = 0, hits = site_table_hit_sites();
    uint32_t bound = UINT32_MAX;
    size_t bound_index = SIZE_MAX;
    while (n < max) {
        size_t best = SIZE_MAX;
        uint32_t best_count = 0;
        for (size_t h = 0; h < hits; h++) {
            size_t i;
            if (!site_table_hit_site(h, &i))
                continue;
            uint32_t c = site_table_hits(i);
            bool below = c < bound || (c == bound && i > bound_index);
            bool better = best == SIZE_MAX || c > best_count || (c == best_count && i < best);
            if (c > 0 && below && better) {
                best = i;
                best_count = c;
            }
        }
        if (best == SIZE_MAX)
            break;
        describe_site(best, best_count, &out[n++]);
        bound = best_count;
        bound_index = best;
    }
    return n;
}
