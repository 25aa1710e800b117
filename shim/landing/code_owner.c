/* code_owner: see code_owner.h.
 *
 * Memory: one sorted array of unit code ranges, allocated at start-up, never freed. */
#include "code_owner.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocaml_units.h"
#include "site_table.h"

struct unit_range {
    uint64_t begin, end;              /* [begin, end), link-time; 0 while unknown */
    const char *unit;                 /* into the symbol name: not NUL-terminated */
    size_t len;
    uint8_t owner;                    /* enum code_owner */
    bool effect_library;              /* Stdlib__Effect: handlers, continue, runstack calls */
};

static struct unit_range *ranges;
static size_t range_count, range_capacity;

/* `caml<Unit>.code_begin`, `caml_startup.code_end`, `caml_system__code_begin`: the unit
 * (`_startup` and `_system` for the glue) and which end. */
static bool code_bound(const char *name, const char **unit, size_t *len, bool *begin)
{
    static const char *const suffixes[] = { ".code_begin", "__code_begin",
                                            ".code_end", "__code_end" };
    size_t n = strlen(name);
    if (strncmp(name, "caml", 4) != 0)
        return false;
    for (size_t i = 0; i < 4; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > 4 + k && strcmp(name + n - k, suffixes[i]) == 0) {
            *unit = name + 4;
            *len = n - 4 - k;
            *begin = i < 2;
            return true;
        }
    }
    return false;
}

/* Besides the Stdlib: the compiler's other libraries the schedulers call, and the small
 * general-purpose libraries Eio, Miou and Picos call from their scheduler code (checked in
 * Eio 1.5: its timer queue is a Psq updated by Eio_utils.Zzz, its I/O loop polls through
 * Iomux, fiber contexts are Hmaps). Preempted in one of them, a fiber called by the
 * scheduler stops inside the scheduler; called by the program, inside the program. */
static const char *const transparent_libraries[] = {
    "Stdlib", "Unix", "UnixLabels", "Runtime_events", "Psq", "Optint", "Hmap", "Iomux",
    "Mtime", "Mtime_clock", "Cstruct", "Bigstringaf", "Fmt", NULL };

static bool is_transparent(const char *unit, size_t len)
{
    if (unit[0] == '_' ||                         /* caml_startup, caml_system, caml_hot */
        (len >= 12 && memcmp(unit, "Camlinternal", 12) == 0))
        return true;
    for (size_t i = 0; transparent_libraries[i]; i++)
        if (ocaml_unit_coverage(transparent_libraries[i], unit, len) != UNIT_NOT_COVERED)
            return true;
    return false;
}

static struct unit_range *slot(const char *unit, size_t len)
{
    for (size_t i = range_count; i-- > 0;)
        if (ranges[i].len == len && memcmp(ranges[i].unit, unit, len) == 0)
            return &ranges[i];
    if (range_count == range_capacity) {
        size_t cap = range_capacity ? range_capacity * 2 : 256;
        struct unit_range *grown = realloc(ranges, cap * sizeof *grown);
        if (!grown)
            return NULL;
        ranges = grown;
        range_capacity = cap;
    }
    struct unit_range *r = &ranges[range_count++];
    *r = (struct unit_range){ 0, 0, unit, len, OWNER_PLAIN, false };
    return r;
}

static int collect_bound(const struct elf_symbol *sym, void *unused)
{
    (void)unused;
    const char *unit;
    size_t len;
    bool begin;
    if (!code_bound(sym->name, &unit, &len, &begin))
        return 0;
    struct unit_range *r = slot(unit, len);
    if (!r)
        return -1;
    if (begin)
        r->begin = sym->value;
    else
        r->end = sym->value;
    return 0;
}

static int compare_begin(const void *a, const void *b)
{
    uint64_t x = ((const struct unit_range *)a)->begin;
    uint64_t y = ((const struct unit_range *)b)->begin;
    return x < y ? -1 : x > y;
}

int code_owner_prepare(const struct elf_image *img, char *why, size_t why_len)
{
    range_count = 0;                  /* after a refused cache record */
    if (elf_image_each_symbol(img, collect_bound, NULL) != 0) {
        snprintf(why, why_len, "out of memory listing the units' code");
        return -1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < range_count; i++) {
        struct unit_range r = ranges[i];
        if (r.begin == 0 || r.end <= r.begin)
            continue;                 /* empty (caml_hot) or half-named: no code to own */
        r.owner = site_table_unit_denied(r.unit, r.len) ? OWNER_DENIED
                  : is_transparent(r.unit, r.len)      ? OWNER_TRANSPARENT
                                                       : OWNER_PLAIN;
        r.effect_library = r.len == 14 && memcmp(r.unit, "Stdlib__Effect", 14) == 0;
        ranges[kept++] = r;
    }
    range_count = kept;
    if (range_count > 1)
        qsort(ranges, range_count, sizeof *ranges, compare_begin);
    return 0;
}

static const struct unit_range *range_of(uint64_t link_pc)
{
    size_t lo = 0, hi = range_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (link_pc < ranges[mid].begin)
            hi = mid;
        else if (link_pc >= ranges[mid].end)
            lo = mid + 1;
        else
            return &ranges[mid];
    }
    return NULL;
}

enum code_owner code_owner_of(uint64_t link_pc)
{
    const struct unit_range *r = range_of(link_pc);
    /* Code of no unit we can name: refuse rather than guess (as site_table does). */
    return r ? (enum code_owner)r->owner : OWNER_DENIED;
}

bool code_owner_in_effect_library(uint64_t link_pc)
{
    const struct unit_range *r = range_of(link_pc);
    return r && r->effect_library;
}

/* ---- the analysis cache ------------------------------------------------------------ */

struct owner_cached {
    uint64_t begin, end;
    uint8_t owner, effect_library, unused[6];
};

void code_owner_export(struct cache_builder *b)
{
    struct owner_cached *out = calloc(range_count ? range_count : 1, sizeof *out);
    if (!out) {
        b->failed = true;
        return;
    }
    for (size_t i = 0; i < range_count; i++)
        out[i] = (struct owner_cached){ ranges[i].begin, ranges[i].end, ranges[i].owner,
                                        ranges[i].effect_library, { 0 } };
    cache_builder_add(b, CACHE_TAG_CODE_OWNERS, out, range_count * sizeof *out);
    free(out);
}

int code_owner_restore(const struct cache_view *v, const struct exe_memory *m, char *why,
                       size_t why_len)
{
    size_t n;
    const struct owner_cached *in = cache_view_array(v, CACHE_TAG_CODE_OWNERS, sizeof *in,
                                                     1u << 24, &n);
    struct unit_range *out = in ? calloc(n ? n : 1, sizeof *out) : NULL;
    if (!out) {
        snprintf(why, why_len, "code owners record missing");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i].begin >= in[i].end || in[i].owner > OWNER_DENIED || in[i].effect_library > 1 ||
            !exe_memory_in_code(m, in[i].begin, in[i].end - in[i].begin) ||
            (i > 0 && in[i].begin < in[i - 1].end)) {
            free(out);
            snprintf(why, why_len, "code owners record out of range");
            return -1;
        }
        out[i] = (struct unit_range){ in[i].begin, in[i].end, NULL, 0, in[i].owner,
                                      in[i].effect_library != 0 };
    }
    ranges = out;
    range_count = range_capacity = n;
    return 0;
}
