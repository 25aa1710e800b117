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
 * for the life of the process). */
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

static struct safepoint *sites;
static size_t site_count;
static uint32_t *site_index;          /* open addressing: 1 + index into sites, 0 = empty */
static size_t index_mask;
static uint8_t *shadow_frametable;    /* int64 count, then descriptors */
static size_t shadow_length;          /* bytes used */
static _Atomic int registration;      /* 0 not yet, 1 in progress, 2 done */
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

static size_t hash_retaddr(uintptr_t a) { return (size_t)(a >> 3) * 0x9E3779B97F4A7C15ull; }

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

enum collect_failure { COLLECT_OK, COLLECT_NO_MEMORY, COLLECT_OUTSIDE_CODE };

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
        struct safepoint *grown = realloc(sites, cap * sizeof *sites);
        if (!grown) {
            ctx->failed = COLLECT_NO_MEMORY;
            return 1;
        }
        sites = grown;
        ctx->capacity = cap;
    }
    struct safepoint *s = &sites[site_count++];
    memset(s, 0, sizeof *s);
    s->retaddr = (uintptr_t)d->retaddr;
    struct source_location checked;
    s->debuginfo = d->num_debug && debuginfo_decode_in_image(d->debug_info, ocaml_rt.bias,
                                                             ctx->img, &checked) == 0
                       ? d->debug_info : NULL;
    s->kind = (uint8_t)d->kind;
    s->live_mask = frame_descr_live_regs(d);
    s->alloc_bytes = (uint32_t)frame_descr_alloc_bytes(d);
    s->shape = (uint8_t)shape;
    if (s->shape == SHAPE_UNRECOGNISED) {
        s->refusal = SITE_BAD_SHAPE;
        counts.bad_shape++;
    } else if (yield_target_contains(s->retaddr)) {
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

static int build_index(char *why, size_t why_len)
{
    size_t cap = 16;
    while (cap < site_count * 2)
        cap *= 2;
    site_index = calloc(cap, sizeof *site_index);
    site_hits = calloc(site_count ? site_count : 1, sizeof *site_hits);
    hit_list = calloc(site_count ? site_count : 1, sizeof *hit_list);
    if (!site_index || !site_hits || !hit_list) {
        snprintf(why, why_len, "out of memory indexing safe points");
        return -1;
    }
    index_mask = cap - 1;
    for (size_t i = 0; i < site_count; i++) {
        size_t h = hash_retaddr(sites[i].retaddr) & index_mask;
        while (site_index[h])
            h = (h + 1) & index_mask;
        site_index[h] = (uint32_t)(i + 1);
    }
    return 0;
}

const struct safepoint *site_table_find(uintptr_t retaddr)
{
    if (!site_index)
        return NULL;
    for (size_t h = hash_retaddr(retaddr) & index_mask;; h = (h + 1) & index_mask) {
        uint32_t i = site_index[h];
        if (i == 0)
            return NULL;
        if (sites[i - 1].retaddr == retaddr)
            return &sites[i - 1];
    }
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
    len = (len + 7) & ~(size_t)7;
    return p + len;
}

struct shadow_ctx { uint8_t *out; size_t next_site; };

/* The original descriptor, stack slots only (even offsets). */
static int emit_shadow(const struct frame_descr_view *d, void *p)
{
    struct shadow_ctx *ctx = p;
    if (d->kind != SITE_POLL && d->kind != SITE_ALLOC)
        return 0;
    struct safepoint *s = &sites[ctx->next_site++];
    uint16_t live[d->num_live ? d->num_live : 1];
    uint16_t n = 0;
    for (uint16_t i = 0; i < d->num_live; i++)
        if ((d->live_ofs[i] & 1) == 0)
            live[n++] = d->live_ofs[i];
    ctx->out = emit_descriptor(ctx->out, s->shadow_retaddr, d->frame_size, live, n);
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
    for (size_t i = 0; i < site_count; i++)
        sites[i].shadow_retaddr = (uintptr_t)shadow + 8 * i;
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
            if (sites[i].kind == SITE_ALLOC && sites[i].refusal == SITE_OK)
                refuse_for_policy(&sites[i]);
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
        q[n] = (struct loop_query){ sites[i].retaddr - ocaml_rt.bias, sites[i].kind, false };
        index[n++] = i;
    }
    if (loop_sites_mark(img, q, n, &stats, &err) != 0) {
        snprintf(why, why_len, "%s", err.msg);
        goto out;
    }
    for (size_t k = 0; k < n; k++)
        if (q[k].kind == SITE_ALLOC && !q[k].keep)
            refuse_for_policy(&sites[index[k]]);
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
    memset(&counts, 0, sizeof counts);
    inline_frames_clear();
    if (collect_sites(img, extents, why, why_len) != 0 || apply_site_policy(img, why, why_len) != 0 ||
        build_index(why, why_len) != 0 || build_shadow_frametable(why, why_len) != 0)
        return -1;
    return 0;
}

bool site_table_ensure_registered(void)
{
    int state = atomic_load_explicit(&registration, memory_order_acquire);
    if (state == 2)
        return true;
    if (state == 1 || !atomic_compare_exchange_strong(&registration, &state, 1))
        return false;
    /* A stop-the-world: other domains may run a minor GC meanwhile. That moves no fiber
       stack and leaves this caml_call_gc frame as it was, and the caller checks the
       allocation room only after this, so injecting right away is safe. */
    ocaml_rt.register_frametable(shadow_frametable);
    atomic_store_explicit(&registration, 2, memory_order_release);
    return true;
}

void site_table_counts(struct site_table_counts *out) { *out = counts; }

/* ---- the analysis cache --------------------------------------------------------------- */

struct site_cached {                  /* 16 bytes: a large binary has 10^5 sites */
    uint32_t retaddr, debuginfo;      /* relative to the load bias; debuginfo 0: none */
    uint32_t live_mask;
    uint16_t alloc_bytes;
    uint8_t kind_refusal;             /* kind << 4 | refusal */
    uint8_t shape;
};

#define STUB_DESCRIPTOR_LEN ((12 + 2 * GC_REGS_COUNT + 7) & ~(size_t)7)

void site_table_export(struct cache_builder *b)
{
    struct site_cached *out = calloc(site_count ? site_count : 1, sizeof *out);
    if (!out) {
        b->failed = true;
        return;
    }
    for (size_t i = 0; i < site_count; i++) {
        const struct safepoint *s = &sites[i];
        uint64_t at = s->retaddr - ocaml_rt.bias;
        uint64_t di = s->debuginfo ? (uintptr_t)s->debuginfo - ocaml_rt.bias : 0;
        if (at > UINT32_MAX || di > UINT32_MAX || s->alloc_bytes > UINT16_MAX ||
            s->kind > 15 || s->refusal > 15) {
            b->failed = true;         /* does not fit the compact record: not cached */
            break;
        }
        out[i] = (struct site_cached){ (uint32_t)at, (uint32_t)di, s->live_mask,
                                       (uint16_t)s->alloc_bytes,
                                       (uint8_t)(s->kind << 4 | s->refusal), s->shape };
    }
    cache_builder_add(b, CACHE_TAG_SITES, out, site_count * sizeof *out);
    free(out);
    cache_builder_add(b, CACHE_TAG_SITE_COUNTS, &counts, sizeof counts);
    size_t skip = 8 + STUB_DESCRIPTOR_LEN;
    cache_builder_add(b, CACHE_TAG_SHADOW, shadow_frametable + skip, shadow_length - skip);
}

static bool site_in_range(const struct site_cached *c, const struct exe_memory *m)
{
    unsigned kind = c->kind_refusal >> 4, refusal = c->kind_refusal & 15;
    return c->retaddr >= 5 && exe_memory_in_code(m, c->retaddr - 5, 5) &&
           (kind == SITE_POLL || kind == SITE_ALLOC) && refusal <= SITE_EXTENT &&
           c->shape <= SHAPE_UNRECOGNISED &&
           (c->debuginfo == 0 || exe_memory_in_image(m, c->debuginfo, 8));
}

/* The cached shadow descriptors, one per site in order, copied after the stub's with
 * their return addresses set to the sites' shadow addresses. 0, or -1 if any length
 * disagrees. */
static int restore_shadow(const uint8_t *in, size_t len, char *why, size_t why_len)
{
    size_t skip = 8 + STUB_DESCRIPTOR_LEN;
    if (len > (size_t)1 << 30 || !(shadow_frametable = malloc(skip + len))) {
        snprintf(why, why_len, "shadow record too large");
        return -1;
    }
    emit_stub_descriptor(shadow_frametable);
    uint8_t *p = shadow_frametable + skip;
    memcpy(p, in, len);
    size_t at = 0;
    for (size_t i = 0; i < site_count; i++) {
        uint16_t num_live;
        if (len - at < 12)
            goto bad;
        memcpy(&num_live, p + at + 10, 2);
        size_t n = (12 + 2u * num_live + 7) & ~(size_t)7;
        if (n > len - at)
            goto bad;
        for (uint16_t k = 0; k < num_live; k++) {
            uint16_t ofs;
            memcpy(&ofs, p + at + 12 + 2u * k, 2);
            if (ofs & 1)              /* stack slots only: no register may be named */
                goto bad;
        }
        memcpy(p + at, &sites[i].shadow_retaddr, 8);
        at += n;
    }
    if (at != len)
        goto bad;
    shadow_length = skip + len;
    return 0;
bad:
    free(shadow_frametable);
    shadow_frametable = NULL;
    snprintf(why, why_len, "shadow record out of range");
    return -1;
}

int site_table_restore(const struct cache_view *v, const struct exe_memory *m, char *why,
                       size_t why_len)
{
    size_t n, counts_len, shadow_len;
    const struct site_cached *in = cache_view_array(v, CACHE_TAG_SITES, sizeof *in,
                                                    UINT32_MAX / 2, &n);
    const uint8_t *c = cache_view_get(v, CACHE_TAG_SITE_COUNTS, &counts_len);
    const uint8_t *shadow = cache_view_get(v, CACHE_TAG_SHADOW, &shadow_len);
    if (!in || !c || counts_len != sizeof counts || !shadow) {
        snprintf(why, why_len, "site records missing");
        return -1;
    }
    struct site_table_counts cached;
    memcpy(&cached, c, sizeof cached);
    size_t poll = 0;
    for (size_t i = 0; i < n; i++) {
        if (!site_in_range(&in[i], m)) {
            snprintf(why, why_len, "site %zu out of range", i);
            return -1;
        }
        poll += (in[i].kind_refusal >> 4) == SITE_POLL;
    }
    if (cached.poll != poll || cached.alloc != n - poll) {
        snprintf(why, why_len, "site counts disagree with the sites");
        return -1;
    }
    sites = malloc((n ? n : 1) * sizeof *sites);
    if (!sites) {
        snprintf(why, why_len, "out of memory restoring the safe-point table");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        sites[i] = (struct safepoint){
            m->bias + in[i].retaddr,
            in[i].debuginfo ? (const uint32_t *)(m->bias + in[i].debuginfo) : NULL,
            0, in[i].live_mask, in[i].alloc_bytes, (uint8_t)(in[i].kind_refusal >> 4),
            (uint8_t)(in[i].kind_refusal & 15), in[i].shape };
    site_count = n;
    counts = cached;
    site_image = NULL;
    if (build_index(why, why_len) != 0 || reserve_shadow_addresses(why, why_len) != 0 ||
        restore_shadow(shadow, shadow_len, why, why_len) != 0) {
        site_count = 0;               /* the analysis builds afresh */
        site_index = NULL;
        return -1;
    }
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
        if (sites[i].debuginfo &&
            debuginfo_decode_in_image(sites[i].debuginfo, ocaml_rt.bias, img, &checked) != 0)
            sites[i].debuginfo = NULL;
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
