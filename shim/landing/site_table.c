/* site_table: see site_table.h.
 *
 * Trust: the frame tables are the program's data, i.e. the file's. Each table is walked
 * only up to the end of the segment holding it; each safe point's code is read only after
 * site_code_in_image (the probe's rule) placed it in the executable's code, and a return
 * address outside it refuses the whole program; a debuginfo slot is kept only if
 * debuginfo_decode_in_image found every offset inside the image.
 *
 * Memory: the safepoint array, its hash index and the shadow frame table are allocated
 * once in the constructor and never freed (the runtime keeps pointers into the frame table
 * for the life of the process). From the analysis cache, the array and the index are the
 * mapped file's own bytes (mapped for good, never written: a site table rewritten there
 * would be copied first), and the shadow table is built at its first registration; the
 * per-site counters are anonymous pages, touched only by preemptions. */
#define _GNU_SOURCE
#include "site_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "c_call_table.h"
#include "debuginfo.h"
#include "inline_chain.h"
#include "inline_frames.h"
#include "log.h"
#include "loop_sites.h"
#include "ocaml_units.h"
#include "runtime.h"
#include "shim_state.h"
#include "stub_abi.h"
#include "yield_target.h"

static const struct safepoint *sites;  /* built_sites, or the cache file's record */
static struct safepoint *built_sites; /* written while the analysis builds them */
static size_t site_count;
/* The sites are sorted by their bucket (a hash of the address relative to the bias, so
 * the cache can store it all): bucket h's sites are sites[site_buckets[h] ..
 * site_buckets[h + 1]), bucket_mask + 2 entries. A warm start checks that in one pass. */
static const uint32_t *site_buckets;
static size_t bucket_mask;
/* While building: the table index of the k-th site in frame-table order. */
static uint32_t *site_rank;
static uintptr_t shadow_base;         /* site i's shadow return address: shadow_base + 8 i */
static uint8_t *shadow_frametable;    /* int64 count, then descriptors */
static size_t shadow_length;          /* bytes used */
/* From the cache: the sites' shadow descriptors (checked), in table order, written out as
 * shadow_frametable at the first registration: each site's frame size and slot count, and
 * all their stack slots one after the other. */
struct shadow_head { uint16_t frame_size, num_live; };
static const struct shadow_head *shadow_heads;
static const uint16_t *shadow_slots;
static _Atomic int registration;      /* 0 not yet, 1 in progress, 2 done, 3 out of memory */
static struct site_table_counts counts;
static _Atomic uint32_t *site_hits;   /* preemptions per site, parallel to sites */
/* The sites preempted at least once, in order of first preemption: 1 + index into sites
 * (0 while its writer has claimed the entry but not stored it yet). Lets the exit report
 * look at the few sites that matter, not at every site of a large binary. */
static _Atomic uint32_t *hit_list;
static _Atomic size_t hit_count;
static const struct elf_image *site_image;

/* The module tables of caml_frametable, each with the bytes up to the end of the segment
 * that holds it: the walk never reads past that, whatever the table's counts say. */
struct module_table {
    const uint8_t *bytes;
    size_t avail;
};
static struct module_table *module_tables;
static size_t module_table_count;

/* Fibonacci hashing: the product's high half, masked. */
static size_t site_bucket(uint32_t rel)
{
    return (size_t)(((uint64_t)(rel >> 3) * 0x9E3779B97F4A7C15ull) >> 32) & bucket_mask;
}

uintptr_t site_table_retaddr(const struct safepoint *s) { return ocaml_rt.bias + s->retaddr_rel; }

const uint32_t *site_table_debuginfo(const struct safepoint *s)
{
    return s->debuginfo_rel ? (const uint32_t *)(ocaml_rt.bias + s->debuginfo_rel) : NULL;
}

uintptr_t site_table_shadow_retaddr(const struct safepoint *s)
{
    return shadow_base + 8 * (uintptr_t)(s - sites);
}

/* ---- deny-list ---------------------------------------------------------------------- */

/* A compilation unit is denied when a deny entry covers it as a unit or library
 * (analysis/names/ocaml_units.h): `Miou` covers Miou, Miou__* and Miou's own units, never a
 * user's Miou_fair. */
bool site_table_unit_denied(const char *unit, size_t len)
{
    for (size_t i = 0; i < shim_config.deny_count; i++)
        if (ocaml_unit_coverage(shim_config.deny[i], unit, len) != UNIT_NOT_COVERED)
            return true;
    return false;
}

/* ---- which unit each frame table belongs to -------------------------------------------- */

/* Every module's frame table has a symbol `caml<Unit>.frametable` (`__frametable` in older
 * naming): one pass over the symbols names them all, so the deny-list is decided once per
 * module instead of looking up the function of every site. */
struct unit_table {
    uint64_t link_addr;
    const char *unit;            /* points into the symbol name: not NUL-terminated */
    size_t unit_len;
};
static struct unit_table *unit_tables;
static size_t unit_table_count, unit_table_capacity;

static int collect_unit_table(const struct elf_symbol *sym, void *unused)
{
    const char *unit;
    size_t len;
    if (!ocaml_frametable_unit(sym->name, &unit, &len))
        return 0;
    if (unit_table_count == unit_table_capacity) {
        size_t cap = unit_table_capacity ? unit_table_capacity * 2 : 256;
        struct unit_table *grown = realloc(unit_tables, cap * sizeof *grown);
        if (!grown)
            return -1;
        unit_tables = grown;
        unit_table_capacity = cap;
    }
    unit_tables[unit_table_count++] = (struct unit_table){ sym->value, unit, len };
    return 0;
}

static int compare_unit_tables(const void *a, const void *b)
{
    uint64_t x = ((const struct unit_table *)a)->link_addr;
    uint64_t y = ((const struct unit_table *)b)->link_addr;
    return x < y ? -1 : x > y;
}

static const struct unit_table *unit_of_table(const void *table)
{
    struct unit_table key = { (uintptr_t)table - ocaml_rt.bias, NULL, 0 };
    if (unit_table_count == 0)
        return NULL;
    return bsearch(&key, unit_tables, unit_table_count, sizeof key, compare_unit_tables);
}

const char *site_table_function_name(uintptr_t addr, uintptr_t *offset)
{
    struct elf_symbol sym;
    uintptr_t link = addr - ocaml_rt.bias;
    if (site_image && elf_image_symbol_at(site_image, link, &sym) == 0) {
        if (offset)
            *offset = link - sym.value;
        return sym.name;
    }
    if (offset)
        *offset = link;
    return "?";
}

/* Descriptors are a few dozen bytes; this bounds the decoder, which reads only the
 * descriptor's own bytes of a well-formed table. */
#define DESCRIPTOR_READ_MAX 4096

static int keep_item(const struct source_location *item, void *last)
{
    *(struct source_location *)last = *item;
    return 0;
}

int site_table_call_location(uintptr_t retaddr, struct source_location *out)
{
    const uint8_t *d = ocaml_rt.find_frame_descr ? ocaml_rt.find_frame_descr(retaddr) : NULL;
    struct frame_descr_view view;
    if (!d || !site_image || frame_descr_decode(d, DESCRIPTOR_READ_MAX, &view) != 0 ||
        view.num_debug == 0)
        return -1;
    /* the chain's last item: the function whose code this is, not what was inlined there */
    uint64_t slot_link = (uintptr_t)view.debug_info - ocaml_rt.bias;
    return debuginfo_chain_each(site_image, slot_link, keep_item, out) > 0 ? 0 : -1;
}

/* ---- collecting the sites ------------------------------------------------------------- */

enum collect_failure { COLLECT_OK, COLLECT_NO_MEMORY, COLLECT_OUTSIDE_CODE, COLLECT_TOO_LARGE };

struct collect_ctx {
    const struct elf_image *img;
    const struct site_targets *targets;   /* run-time addresses */
    struct chain_policy policy;           /* deny list and extents, for inlining chains */
    bool table_denied;            /* the unit of the table being walked is deny-listed */
    size_t capacity;
    enum collect_failure failed;
    uintptr_t outside;            /* COLLECT_OUTSIDE_CODE: the return address */
};

/* What the descriptor's inlining chains add to the verdict of the unit whose code it is:
 * nothing where that unit is denied (or the code lies in an extent) already. A call
 * descriptor's finding goes to inline_frames for the walk; a site's also to its refusal. */
static enum chain_verdict judge_chain(struct collect_ctx *ctx, const struct frame_descr_view *d,
                                      bool *has_debuginfo)
{
    struct chain_finding f = { CHAIN_PLAIN, false, false, NULL };
    if (d->num_debug)
        inline_chain_judge(ctx->img, d, (uintptr_t)d->debug_info - ocaml_rt.bias,
                           &ctx->policy, &f);
    *has_debuginfo = f.has_debuginfo;
    enum inline_frame added = INLINE_FRAME_PLAIN;
    if (f.verdict == CHAIN_EXTENT &&
        critical_extents_find(ctx->policy.extents, d->retaddr - ocaml_rt.bias) == NULL)
        added = INLINE_FRAME_EXTENT;
    else if (f.verdict == CHAIN_DENIED && !ctx->table_denied)
        added = INLINE_FRAME_DENIED;
    if (added == INLINE_FRAME_PLAIN)
        return CHAIN_PLAIN;
    if (inline_frames_add((uintptr_t)d->retaddr, added) != 0)
        ctx->failed = COLLECT_NO_MEMORY;
    return added == INLINE_FRAME_EXTENT ? CHAIN_EXTENT : CHAIN_DENIED;
}

/* A site the shim would otherwise allow, refused for what was inlined there. */
static void refuse_for_chain(struct safepoint *s, enum chain_verdict v)
{
    if (v == CHAIN_EXTENT) {
        s->refusal = SITE_EXTENT;
        counts.inlined_extent++;
    } else if (v == CHAIN_DENIED) {
        s->refusal = SITE_DENIED;
        counts.denied++;
        counts.inlined_denied++;
    }
}

static int collect_site(const struct frame_descr_view *d, void *p)
{
    struct collect_ctx *ctx = p;
    if (d->kind == SITE_RETURN_TO_C)
        return 0;
    bool has_debuginfo;
    enum chain_verdict chain = judge_chain(ctx, d, &has_debuginfo);
    if (ctx->failed == COLLECT_NO_MEMORY)
        return 1;
    if (d->kind == SITE_CALL)
        c_call_table_note((uintptr_t)d->retaddr);    /* an external call into C? */
    if (d->kind != SITE_POLL && d->kind != SITE_ALLOC)
        return 0;
    /* The probe's rule first: the code around the return address must lie in the
       executable's code, else the descriptor is corrupt and the program refused; only
       then are those bytes (mapped: the same as the file's) read and classified. */
    if (!site_code_in_image(ctx->img, d->retaddr - ocaml_rt.bias)) {
        ctx->failed = COLLECT_OUTSIDE_CODE;
        ctx->outside = (uintptr_t)d->retaddr;
        return 1;
    }
    enum site_shape shape = site_shape_classify((const uint8_t *)(uintptr_t)(d->retaddr - 5),
                                                d->retaddr, ctx->targets);
    if (site_count == ctx->capacity) {
        size_t cap = ctx->capacity ? ctx->capacity * 2 : 4096;
        struct safepoint *grown = realloc(built_sites, cap * sizeof *built_sites);
        if (!grown) {
            ctx->failed = COLLECT_NO_MEMORY;
            return 1;
        }
        sites = built_sites = grown;
        ctx->capacity = cap;
    }
    /* The compact record: addresses within 4 GiB of the bias (the sites are in the
       executable's code, so only a 4 GiB executable is refused), allocations below 64 KiB
       (the runtime's largest young allocation is 256 words). */
    struct source_location checked;
    uint64_t at = (uintptr_t)d->retaddr - ocaml_rt.bias;
    uint64_t di = d->num_debug && debuginfo_decode_in_image(d->debug_info, ocaml_rt.bias,
                                                            ctx->img, &checked) == 0
                      ? (uintptr_t)d->debug_info - ocaml_rt.bias : 0;
    uint64_t alloc = frame_descr_alloc_bytes(d);
    if (at > UINT32_MAX || di > UINT32_MAX || alloc > UINT16_MAX) {
        ctx->failed = COLLECT_TOO_LARGE;
        ctx->outside = (uintptr_t)d->retaddr;
        return 1;
    }
    struct safepoint *s = &built_sites[site_count++];
    memset(s, 0, sizeof *s);
    s->retaddr_rel = (uint32_t)at;
    s->debuginfo_rel = (uint32_t)di;
    s->kind = (uint8_t)d->kind & 15;
    s->live_mask = frame_descr_live_regs(d);
    s->alloc_bytes = (uint16_t)alloc;
    s->shape = (uint8_t)shape;
    if (s->shape == SHAPE_UNRECOGNISED) {
        s->refusal = SITE_BAD_SHAPE;
        counts.bad_shape++;
    } else if (yield_target_contains((uintptr_t)d->retaddr)) {
        s->refusal = SITE_IN_YIELD;
        counts.in_yield++;
    } else if (ctx->table_denied) {
        s->refusal = SITE_DENIED;
        counts.denied++;
    } else {
        refuse_for_chain(s, chain);
    }
    if (!ctx->table_denied && !has_debuginfo && s->kind == SITE_ALLOC)
        counts.no_debuginfo++;        /* polls never have any in 5.3 (emit.mlp) */
    if (s->kind == SITE_POLL)
        counts.poll++;
    else
        counts.alloc++;
    return 0;
}

static int bind_targets(const struct elf_image *img, struct site_targets *t)
{
    static const char *const names[] = { "caml_call_gc", "caml_alloc1", "caml_alloc2",
                                         "caml_alloc3", "caml_allocN" };
    uint64_t *slots[] = { &t->call_gc, &t->alloc1, &t->alloc2, &t->alloc3, &t->allocN };
    for (size_t i = 0; i < 5; i++) {
        struct elf_symbol sym;
        if (elf_image_symbol(img, names[i], &sym) != 0)
            return -1;
        *slots[i] = ocaml_rt.bias + sym.value;
    }
    return 0;
}

/* Lists caml_frametable's module tables, each checked to lie in the executable's
 * segments (the array and the pointers in it are the program's data, relocated by the
 * loader from the file's values). 0, or -1 with why set. */
static int list_module_tables(const struct elf_image *img, char *why, size_t why_len)
{
    size_t capacity = 0;
    for (const uint8_t *const *t = (const uint8_t *const *)ocaml_rt.frametable;; t++) {
        if (!elf_image_in_segment(img, (uintptr_t)t - ocaml_rt.bias, sizeof *t)) {
            snprintf(why, why_len, "corrupt binary: caml_frametable is not NULL-terminated "
                     "inside the executable");
            return -1;
        }
        if (*t == NULL)
            return 0;
        uint64_t link = (uintptr_t)*t - ocaml_rt.bias, end;
        if ((uintptr_t)*t < ocaml_rt.bias || elf_image_segment_end(img, link, &end) != 0) {
            snprintf(why, why_len, "corrupt binary: frame table %p lies outside the "
                     "executable's segments", (const void *)*t);
            return -1;
        }
        if (module_table_count == capacity) {
            capacity = capacity ? capacity * 2 : 256;
            struct module_table *grown = realloc(module_tables, capacity * sizeof *grown);
            if (!grown) {
                snprintf(why, why_len, "out of memory listing the frame tables");
                return -1;
            }
            module_tables = grown;
        }
        module_tables[module_table_count++] = (struct module_table){ *t, (size_t)(end - link) };
    }
}

static int collect_sites(const struct elf_image *img, const struct extent_set *extents,
                         char *why, size_t why_len)
{
    struct site_targets targets;
    if (bind_targets(img, &targets) != 0) {
        snprintf(why, why_len, "caml_call_gc/caml_allocN not found");
        return -1;
    }
    if (elf_image_each_symbol(img, collect_unit_table, NULL) != 0) {
        snprintf(why, why_len, "out of memory naming the frame tables");
        return -1;
    }
    if (unit_table_count > 1)
        qsort(unit_tables, unit_table_count, sizeof *unit_tables, compare_unit_tables);
    if (list_module_tables(img, why, why_len) != 0)
        return -1;
    static const char *deny[CONFIG_DENY_MAX];
    for (size_t i = 0; i < shim_config.deny_count; i++)
        deny[i] = shim_config.deny[i];
    static struct chain_memo memo;    /* start-up only; 36 KB kept off the stack */
    struct collect_ctx ctx = { img, &targets, { deny, shim_config.deny_count, extents, &memo },
                               false, 0, COLLECT_OK, 0 };
    for (size_t i = 0; i < module_table_count; i++) {
        const uint8_t *t = module_tables[i].bytes;
        const struct unit_table *unit = unit_of_table(t);
        /* A table we cannot name is treated as denied: preemption must not land in code
           we cannot vouch for. */
        ctx.table_denied = !unit || site_table_unit_denied(unit->unit, unit->unit_len);
        int r = frametable_each(t, module_tables[i].avail, collect_site, &ctx);
        if (ctx.failed == COLLECT_OUTSIDE_CODE) {
            snprintf(why, why_len, "corrupt frame table %.*s: a safe point's return address "
                     "%#lx lies outside the executable's code", unit ? (int)unit->unit_len : 1,
                     unit ? unit->unit : "?", (unsigned long)ctx.outside);
            return -1;
        }
        if (ctx.failed == COLLECT_TOO_LARGE) {
            snprintf(why, why_len, "a safe point at %#lx lies beyond the compact site "
                     "table's 4 GiB from the load bias", (unsigned long)ctx.outside);
            return -1;
        }
        if (ctx.failed == COLLECT_NO_MEMORY) {
            snprintf(why, why_len, "out of memory building the safe-point table");
            return -1;
        }
        if (r < 0) {
            snprintf(why, why_len, "malformed frame table at %p", (const void *)t);
            return -1;
        }
    }
    inline_frames_seal();
    c_call_table_seal();
    return 0;
}

/* ---- index ---------------------------------------------------------------------------- */

/* Buckets for n sites: a power of two, at least n (about one site each). */
static size_t bucket_count(size_t n)
{
    size_t cap = 16;
    while (cap < n)
        cap *= 2;
    return cap;
}

/* The per-site counters: anonymous pages, zero until a preemption writes one (a warm start
 * of a large binary then touches none of its 2 x 4 bytes per site). */
static int map_site_counters(char *why, size_t why_len)
{
    size_t n = site_count ? site_count : 1;
    void *p = mmap(NULL, 2 * n * sizeof(uint32_t), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        snprintf(why, why_len, "out of memory for the per-site counters");
        return -1;
    }
    site_hits = p;
    hit_list = (_Atomic uint32_t *)p + n;
    return 0;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts the built sites by bucket (keeping, in site_rank, where each site of the
 * frame-table walk went: the shadow table is emitted in walk order) and makes the
 * bucket directory. */
static int build_index(char *why, size_t why_len)
{
    size_t buckets = bucket_count(site_count);
    bucket_mask = buckets - 1;
    uint64_t *order = malloc((site_count ? site_count : 1) * sizeof *order);
    struct safepoint *sorted = malloc((site_count ? site_count : 1) * sizeof *sorted);
    uint32_t *directory = calloc(buckets + 1, sizeof *directory);
    site_rank = malloc((site_count ? site_count : 1) * sizeof *site_rank);
    if (!order || !sorted || !directory || !site_rank) {
        free(order);
        free(sorted);
        free(directory);
        snprintf(why, why_len, "out of memory indexing safe points");
        return -1;
    }
    for (size_t k = 0; k < site_count; k++)
        order[k] = (uint64_t)site_bucket(built_sites[k].retaddr_rel) << 32 | k;
    qsort(order, site_count, sizeof *order, compare_u64);
    for (size_t i = 0; i < site_count; i++) {
        size_t k = (uint32_t)order[i];
        sorted[i] = built_sites[k];
        site_rank[k] = (uint32_t)i;
        directory[(order[i] >> 32) + 1]++;
    }
    for (size_t h = 0; h < buckets; h++)
        directory[h + 1] += directory[h];
    free(order);
    free(built_sites);
    sites = built_sites = sorted;
    site_buckets = directory;
    return 0;
}

const struct safepoint *site_table_find(uintptr_t retaddr)
{
    uintptr_t rel = retaddr - ocaml_rt.bias;
    if (!site_buckets || retaddr < ocaml_rt.bias || rel > UINT32_MAX)
        return NULL;
    size_t h = site_bucket((uint32_t)rel);
    for (uint32_t i = site_buckets[h], end = site_buckets[h + 1]; i < end; i++)
        if (sites[i].retaddr_rel == rel)
            return &sites[i];
    return NULL;
}

/* ---- shadow frame table ----------------------------------------------------------- */

static uint8_t *emit_descriptor(uint8_t *p, uintptr_t retaddr, uint16_t frame_size,
                                const uint16_t *live, uint16_t num_live)
{
    memcpy(p, &retaddr, 8);
    memcpy(p + 8, &frame_size, 2);
    memcpy(p + 10, &num_live, 2);
    memcpy(p + 12, live, 2u * num_live);
    size_t len = 12 + 2u * num_live;
    size_t padded = (len + 7) & ~(size_t)7;
    memset(p + len, 0, padded - len);     /* the cache checks the slots a word at a time */
    return p + padded;
}

struct shadow_ctx { uint8_t *out; size_t next_site; };

/* The original descriptor, stack slots only (even offsets). */
static int emit_shadow(const struct frame_descr_view *d, void *p)
{
    struct shadow_ctx *ctx = p;
    if (d->kind != SITE_POLL && d->kind != SITE_ALLOC)
        return 0;
    const struct safepoint *s = &sites[site_rank[ctx->next_site++]];
    uint16_t live[d->num_live ? d->num_live : 1];
    uint16_t n = 0;
    for (uint16_t i = 0; i < d->num_live; i++)
        if ((d->live_ofs[i] & 1) == 0)
            live[n++] = d->live_ofs[i];
    ctx->out = emit_descriptor(ctx->out, site_table_shadow_retaddr(s), d->frame_size, live, n);
    return 0;
}

/* Shadow addresses: 8 bytes apart so the runtime's hash (addr >> 3) spreads them. */
static int reserve_shadow_addresses(char *why, size_t why_len)
{
    size_t span = (site_count + 1) * 8;
    void *shadow = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (shadow == MAP_FAILED) {
        snprintf(why, why_len, "cannot reserve shadow return addresses");
        return -1;
    }
    shadow_base = (uintptr_t)shadow;
    return 0;
}

/* The stub's own descriptor, first in the shadow table; returns the end. */
static uint8_t *emit_stub_descriptor(uint8_t *table)
{
    int64_t count = (int64_t)site_count + 1;
    memcpy(table, &count, 8);
    uint16_t stub_live[GC_REGS_COUNT];
    for (int i = 0; i < GC_REGS_COUNT; i++)
        stub_live[i] = (uint16_t)(STUB_GC_SLOTS + 8 * i);
    return emit_descriptor(table + 8, (uintptr_t)ocpreempt_stub_yield_ret, STUB_FRAME_SIZE,
                           stub_live, GC_REGS_COUNT);
}

static int build_shadow_frametable(char *why, size_t why_len)
{
    if (reserve_shadow_addresses(why, why_len) != 0)
        return -1;

    /* Upper bound: per site 12 bytes + 2 per stack slot (< 2^16) + 8 of alignment. */
    size_t bytes = 8 + (12 + 2 * 13 + 8);
    struct shadow_ctx ctx = { NULL, 0 };
    for (size_t i = 0; i < module_table_count; i++) {
        long len = frametable_length(module_tables[i].bytes, module_tables[i].avail);
        if (len < 0) {
            snprintf(why, why_len, "malformed frame table");
            return -1;
        }
        bytes += (size_t)len + 16 * 1024;
    }
    shadow_frametable = malloc(bytes);
    if (!shadow_frametable) {
        snprintf(why, why_len, "out of memory for the shadow frame table");
        return -1;
    }
    ctx.out = emit_stub_descriptor(shadow_frametable);
    for (size_t i = 0; i < module_table_count; i++)
        frametable_each(module_tables[i].bytes, module_tables[i].avail, emit_shadow, &ctx);
    shadow_length = (size_t)(ctx.out - shadow_frametable);
    if (ctx.next_site != site_count || (size_t)(ctx.out - shadow_frametable) > bytes) {
        /* Broken invariant inside the shim: fail closed. */
        fprintf(stderr, "ocpreempt: internal error: shadow table mismatch\n");
        abort();
    }
    return 0;
}

/* ---- site policy (OCPREEMPT_SITES) ---------------------------------------------------- */

static void refuse_for_policy(struct safepoint *s)
{
    s->refusal = SITE_POLICY;
    counts.policy++;
}

/* poll: no allocation site; loop: the allocation sites that are a loop's only safe points
 * (analysis/code/loop_sites.h, from the code of the functions around them); all: every one. */
static int apply_site_policy(const struct elf_image *img, char *why, size_t why_len)
{
    if (shim_config.sites == SITES_ALL)
        return 0;
    if (shim_config.sites == SITES_POLL) {
        for (size_t i = 0; i < site_count; i++)
            if (built_sites[i].kind == SITE_ALLOC && built_sites[i].refusal == SITE_OK)
                refuse_for_policy(&built_sites[i]);
        return 0;
    }
    struct loop_query *q = malloc((site_count ? site_count : 1) * sizeof *q);
    size_t *index = malloc((site_count ? site_count : 1) * sizeof *index);
    size_t n = 0;
    struct loop_stats stats;
    struct analysis_error err;
    int rc = -1;
    if (!q || !index) {
        snprintf(why, why_len, "out of memory finding loop sites");
        goto out;
    }
    for (size_t i = 0; i < site_count; i++) {
        if (sites[i].refusal != SITE_OK)
            continue;
        q[n] = (struct loop_query){ sites[i].retaddr_rel, sites[i].kind, false };
        index[n++] = i;
    }
    if (loop_sites_mark(img, q, n, &stats, &err) != 0) {
        snprintf(why, why_len, "%s", err.msg);
        goto out;
    }
    for (size_t k = 0; k < n; k++)
        if (q[k].kind == SITE_ALLOC && !q[k].keep)
            refuse_for_policy(&built_sites[index[k]]);
    rc = 0;
out:
    free(q);
    free(index);
    return rc;
}

int site_table_build(const struct elf_image *img, const struct extent_set *extents,
                     char *why, size_t why_len)
{
    site_image = img;
    site_count = 0;                   /* after a refused cache record */
    sites = built_sites = NULL;
    site_buckets = NULL;
    shadow_heads = NULL;
    memset(&counts, 0, sizeof counts);
    inline_frames_clear();
    if (collect_sites(img, extents, why, why_len) != 0 || apply_site_policy(img, why, why_len) != 0 ||
        build_index(why, why_len) != 0 || map_site_counters(why, why_len) != 0 ||
        build_shadow_frametable(why, why_len) != 0)
        return -1;
    free(site_rank);
    site_rank = NULL;
    return 0;
}

static int materialize_shadow(void);

bool site_table_ensure_registered(void)
{
    int state = atomic_load_explicit(&registration, memory_order_acquire);
    if (state == 2)
        return true;
    if (state != 0 || !atomic_compare_exchange_strong(&registration, &state, 1))
        return false;
    if (!shadow_frametable && materialize_shadow() != 0) {
        atomic_store_explicit(&registration, 3, memory_order_release);   /* for good */
        return false;
    }
    /* A stop-the-world: other domains may run a minor GC meanwhile. That moves no fiber
       stack and leaves this caml_call_gc frame as it was, and the caller checks the
       allocation room only after this, so injecting right away is safe. */
    ocaml_rt.register_frametable(shadow_frametable);
    atomic_store_explicit(&registration, 2, memory_order_release);
    return true;
}

void site_table_counts(struct site_table_counts *out) { *out = counts; }

/* ---- the analysis cache --------------------------------------------------------------- */

#define STUB_DESCRIPTOR_LEN ((12 + 2 * GC_REGS_COUNT + 7) & ~(size_t)7)

/* The shadow descriptors in table order, without their addresses (this process's): the
 * shadow table has them in frame-table order, each address telling its site. */
void site_table_export(struct cache_builder *b)
{
    size_t skip = 8 + STUB_DESCRIPTOR_LEN, len = shadow_length - skip;
    struct shadow_head *heads = calloc(site_count ? site_count : 1, sizeof *heads);
    size_t *where = calloc(site_count ? site_count : 1, sizeof *where);
    uint16_t *slots = malloc(len ? len : 1);      /* fewer bytes than the descriptors */
    size_t n_slots = 0;
    if (!heads || !where || !slots) {
        b->failed = true;
        goto out;
    }
    for (size_t at = skip; at < shadow_length;) {
        uint64_t addr;
        struct shadow_head h;
        memcpy(&addr, shadow_frametable + at, 8);
        memcpy(&h, shadow_frametable + at + 8, sizeof h);
        size_t rank = (addr - shadow_base) / 8;
        heads[rank] = h;
        where[rank] = at + 12;
        at += (12 + 2u * h.num_live + 7) & ~(size_t)7;
    }
    for (size_t i = 0; i < site_count; i++) {
        memcpy(slots + n_slots, shadow_frametable + where[i], 2u * heads[i].num_live);
        n_slots += heads[i].num_live;
    }
    cache_builder_add(b, CACHE_TAG_SITES, sites, site_count * sizeof *sites);
    cache_builder_add(b, CACHE_TAG_SITE_INDEX, site_buckets,
                      (bucket_mask + 2) * sizeof *site_buckets);
    cache_builder_add(b, CACHE_TAG_SITE_COUNTS, &counts, sizeof counts);
    cache_builder_add(b, CACHE_TAG_SHADOW, heads, site_count * sizeof *heads);
    cache_builder_add(b, CACHE_TAG_SHADOW_SLOTS, slots, n_slots * sizeof *slots);
out:
    free(heads);
    free(where);
    free(slots);
}

/* Each site's fields in range: its call (5 bytes before the return address) inside one
 * executable segment, its debuginfo slot inside one loadable segment. The segments that
 * held the last site's are tried first, inline (a binary's sites are nearly all in one
 * code segment, their debuginfo in one data segment). */
struct segment_range { uint64_t start, end; };

static bool in_range_of(const struct exe_memory *m, uint64_t rel, uint64_t len, bool exec,
                        struct segment_range *last)
{
    return (rel >= last->start && rel <= last->end && len <= last->end - rel) ||
           exe_memory_segment_of(m, rel, len, exec, &last->start, &last->end);
}

static bool site_in_range(const struct safepoint *c, const struct exe_memory *m,
                          struct segment_range last[2])
{
    return c->retaddr_rel >= 5 && in_range_of(m, c->retaddr_rel - 5u, 5, true, &last[0]) &&
           (c->kind == SITE_POLL || c->kind == SITE_ALLOC) && c->refusal <= SITE_EXTENT &&
           c->shape <= SHAPE_UNRECOGNISED &&
           (c->debuginfo_rel == 0 || in_range_of(m, c->debuginfo_rel, 8, false, &last[1]));
}

/* The cached directory is the one build_index makes for these sites: bucket_count(n) + 1
 * entries from 0 to n, never decreasing, and every site inside the range of the bucket
 * its address hashes to. Then site_table_find reads inside the sites and finds every one.
 * Two sequential passes, without a branch per entry (a bucket holds 0 to a few sites:
 * looping over each bucket's sites would mispredict at most of them). */
static bool buckets_match(const uint32_t *directory, size_t entries, const struct safepoint *in,
                          size_t n)
{
    size_t buckets = bucket_count(n);
    if (entries != buckets + 1 || directory[0] != 0 || directory[buckets] != n)
        return false;
    bucket_mask = buckets - 1;
    bool bad = false;
    for (size_t h = 0; h < buckets; h++)
        bad |= directory[h + 1] < directory[h];
    for (size_t i = 0; i < n; i++) {
        size_t h = site_bucket(in[i].retaddr_rel);
        bad |= (i < directory[h]) | (i >= directory[h + 1]);
    }
    return !bad;
}

/* The cached shadow descriptors: one per site, frame sizes without the runtime's flag
 * bits, the slot counts adding up to the slots, and only stack slots (even offsets: no
 * register may be named). Read, not copied (materialize_shadow); no branch per site. */
static bool shadow_matches(const struct shadow_head *heads, size_t n_heads,
                           const uint16_t *slots, size_t n_slots)
{
    if (n_heads != site_count)
        return false;
    uint64_t total = 0;
    unsigned flags = 0, odd = 0;
    for (size_t i = 0; i < n_heads; i++) {
        total += heads[i].num_live;
        flags |= heads[i].frame_size & 3u;
    }
    for (size_t k = 0; k < n_slots; k++)
        odd |= slots[k];
    return total == n_slots && flags == 0 && (odd & 1) == 0;
}

/* The shadow table from the checked records: the stub's descriptor, then the sites' in
 * table order, each at its shadow return address. At the first registration (hook,
 * OCaml context), so a start that never preempts never writes it. 0, or -1 out of
 * memory. */
static int materialize_shadow(void)
{
    size_t bytes = 8 + STUB_DESCRIPTOR_LEN;
    for (size_t i = 0; i < site_count; i++)
        bytes += (12 + 2u * shadow_heads[i].num_live + 7) & ~(size_t)7;
    uint8_t *table = malloc(bytes);
    if (!table)
        return -1;
    uint8_t *p = emit_stub_descriptor(table);
    const uint16_t *live = shadow_slots;
    for (size_t i = 0; i < site_count; i++) {
        p = emit_descriptor(p, shadow_base + 8 * i, shadow_heads[i].frame_size, live,
                            shadow_heads[i].num_live);
        live += shadow_heads[i].num_live;
    }
    shadow_length = (size_t)(p - table);
    shadow_frametable = table;
    return 0;
}

int site_table_restore(const struct cache_view *v, const struct exe_memory *m, char *why,
                       size_t why_len)
{
    size_t n, entries, counts_len, n_heads, n_slots;
    const struct safepoint *in = cache_view_array(v, CACHE_TAG_SITES, sizeof *in,
                                                  UINT32_MAX / 4, &n);
    const uint32_t *directory = cache_view_array(v, CACHE_TAG_SITE_INDEX, sizeof *directory,
                                                 UINT32_MAX / 2 + 1, &entries);
    const uint8_t *c = cache_view_get(v, CACHE_TAG_SITE_COUNTS, &counts_len);
    const struct shadow_head *heads = cache_view_array(v, CACHE_TAG_SHADOW, sizeof *heads,
                                                       UINT32_MAX / 4, &n_heads);
    const uint16_t *slots = cache_view_array(v, CACHE_TAG_SHADOW_SLOTS, sizeof *slots,
                                             UINT32_MAX, &n_slots);
    if (!in || !directory || !c || counts_len != sizeof counts || !heads || !slots) {
        snprintf(why, why_len, "site records missing");
        return -1;
    }
    struct site_table_counts cached;
    memcpy(&cached, c, sizeof cached);
    size_t poll = 0;
    struct segment_range last[2] = { { 1, 0 }, { 1, 0 } };    /* empty: looked up first */
    for (size_t i = 0; i < n; i++) {
        if (!site_in_range(&in[i], m, last)) {
            snprintf(why, why_len, "site %zu out of range", i);
            return -1;
        }
        poll += in[i].kind == SITE_POLL;
    }
    if (cached.poll != poll || cached.alloc != n - poll) {
        snprintf(why, why_len, "site counts disagree with the sites");
        return -1;
    }
    if (!buckets_match(directory, entries, in, n)) {
        snprintf(why, why_len, "site index does not index the sites");
        return -1;
    }
    site_count = n;
    if (!shadow_matches(heads, n_heads, slots, n_slots)) {
        site_count = 0;
        snprintf(why, why_len, "shadow record out of range");
        return -1;
    }
    if (reserve_shadow_addresses(why, why_len) != 0 || map_site_counters(why, why_len) != 0) {
        site_count = 0;               /* the analysis builds afresh */
        return -1;
    }
    sites = in;
    site_buckets = directory;
    shadow_heads = heads;
    shadow_slots = slots;
    counts = cached;
    site_image = NULL;
    return 0;
}

static int note_c_call(const struct frame_descr_view *d, void *unused)
{
    (void)unused;
    if (d->kind == SITE_CALL)
        c_call_table_note((uintptr_t)d->retaddr);
    return 0;
}

/* After a cache hit, with stats: the calls into C that the build's walk would have noted
 * (c_call_table.h; not cached: only the stats read them). Best effort: a table that cannot
 * be listed or read leaves those calls unnamed. */
void site_table_note_c_calls(const struct elf_image *img)
{
    char why[256];
    if (module_table_count == 0 && list_module_tables(img, why, sizeof why) != 0)
        log_debug("calls into C left unnamed: %s", why);
    for (size_t i = 0; i < module_table_count; i++)
        (void)frametable_each(module_tables[i].bytes, module_tables[i].avail, note_c_call,
                              NULL);
    c_call_table_seal();
}

/* The names' image for a restored table (stats, trace): each cached debuginfo slot passes
 * the analysis's own check again before anything decodes it. */
void site_table_attach_image(const struct elf_image *img)
{
    site_image = img;
    for (size_t i = 0; i < site_count; i++) {
        struct source_location checked;
        if (!sites[i].debuginfo_rel ||
            debuginfo_decode_in_image(site_table_debuginfo(&sites[i]), ocaml_rt.bias, img,
                                      &checked) == 0)
            continue;
        /* The cached sites are the mapped file's: copy them before the first write (the
           index holds positions, not addresses, so it stays true). */
        if (sites != built_sites) {
            struct safepoint *copy = malloc(site_count * sizeof *copy);
            if (!copy) {
                site_image = NULL;    /* no names rather than a slot unchecked */
                return;
            }
            memcpy(copy, sites, site_count * sizeof *copy);
            sites = built_sites = copy;
        }
        built_sites[i].debuginfo_rel = 0;
    }
}

void site_table_count_preemption(const struct safepoint *site)
{
    size_t i = (size_t)(site - sites);
    if (atomic_fetch_add_explicit(&site_hits[i], 1, memory_order_relaxed) == 0) {
        /* A site's 0 -> 1 step happens once (unless its count wraps at 2^32: then the
           list already holds it), so at most site_count claims. */
        size_t slot = atomic_fetch_add_explicit(&hit_count, 1, memory_order_relaxed);
        if (slot < site_count)
            atomic_store_explicit(&hit_list[slot], (uint32_t)(i + 1), memory_order_relaxed);
    }
}

size_t site_table_hit_sites(void)
{
    size_t n = atomic_load_explicit(&hit_count, memory_order_relaxed);
    return n < site_count ? n : site_count;
}

bool site_table_hit_site(size_t nth, size_t *index)
{
    uint32_t v = atomic_load_explicit(&hit_list[nth], memory_order_relaxed);
    if (v == 0)
        return false;
    *index = v - 1;
    return true;
}

const struct safepoint *site_table_site(size_t index) { return &sites[index]; }

size_t site_table_size(void) { return site_count; }

uint32_t site_table_hits(size_t index)
{
    return atomic_load_explicit(&site_hits[index], memory_order_relaxed);
}
