/* landing_report: see landing_report.h. One pass over the module frame tables: each
 * table is named by its caml<Unit>.frametable symbol (the shim's own rule, so a table the
 * shim cannot name is denied here too), its sites counted and their code shape checked. */
#include "landing_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frametable.h"
#include "frametable_image.h"
#include "inline_chain.h"
#include "ocaml_units.h"
#include "site_shape.h"

struct walk {
    const struct elf_image *img;
    struct landing_report *r;
    struct site_targets targets;
    struct chain_policy policy;           /* for the inlining chains */
    size_t sites, recognised;             /* of the module being walked */
    size_t inlined_refused;               /* recognised, refused for inlined code */
    bool denied;                          /* the module being walked */
    const struct frametable_module *module;   /* being walked (its bytes are a copy) */
    const char *unit;                     /* its unit name */
    struct loop_query *preemptible;       /* recognised sites of allowed modules */
    size_t npre, cappre;
    int failed;
};

static uint64_t address_of(const struct elf_image *img, const char *name)
{
    struct elf_symbol sym;
    return elf_image_symbol(img, name, &sym) == 0 ? sym.value : 0;
}

static void keep(struct landing_unit *list, size_t *count, size_t *left_out, const char *unit,
                 const char *entry, size_t sites);

/* One more site of the walked unit refused for `defname`, inlined there. */
static void count_inlined(struct walk *w, const char *defname)
{
    struct landing_report *r = w->r;
    for (size_t i = 0; i < r->inlined_count; i++) {
        struct landing_unit *u = &r->inlined[i];
        if (strncmp(u->unit, w->unit, sizeof u->unit - 1) == 0 &&
            strncmp(u->entry, defname, sizeof u->entry - 1) == 0) {
            u->sites++;
            return;
        }
    }
    keep(r->inlined, &r->inlined_count, &r->inlined_left_out, w->unit, defname, 1);
}

/* The shim's rule (site_table.c): what the inlining chains add to a site of a unit that is
 * not denied (an extent only where the code is not in an extent's range already).
 * *has_debuginfo: the site has a chain at all. */
static enum chain_verdict inlining_verdict(struct walk *w, const struct frame_descr_view *d,
                                           const char **defname, bool *has_debuginfo)
{
    struct chain_finding f = { CHAIN_PLAIN, false, false, NULL };
    if (d->num_debug) {
        uint64_t slot = w->module->table_addr +
                        (uint64_t)((const uint8_t *)d->debug_info - w->module->bytes);
        inline_chain_judge(w->img, d, slot, &w->policy, &f);
    }
    *has_debuginfo = f.has_debuginfo;
    *defname = f.defname;
    if (f.verdict == CHAIN_EXTENT && critical_extents_find(w->policy.extents, d->retaddr))
        return CHAIN_PLAIN;
    return f.verdict;
}

static int count_site(const struct frame_descr_view *d, void *p)
{
    struct walk *w = p;
    if (d->kind != SITE_POLL && d->kind != SITE_ALLOC)
        return 0;
    w->sites++;
    if (w->denied)
        return 0;
    const char *defname;
    bool has_debuginfo;
    enum chain_verdict inlined = inlining_verdict(w, d, &defname, &has_debuginfo);
    /* polls never have debuginfo in 5.3 (emit.mlp: Dbg_alloc []): counted apart */
    if (!has_debuginfo && d->kind == SITE_ALLOC)
        w->r->no_debuginfo_sites++;
    w->r->poll_sites_unjudged += d->kind == SITE_POLL;
    const uint8_t *code = d->retaddr >= 5 ? elf_image_code(w->img, d->retaddr - 5, 7) : NULL;
    if (!code || site_shape_classify(code, d->retaddr, &w->targets) == SHAPE_UNRECOGNISED)
        return 0;
    w->recognised++;
    if (inlined != CHAIN_PLAIN) {
        if (inlined == CHAIN_EXTENT)
            w->r->inlined_extent_sites++;
        else
            w->r->inlined_denied_sites++;
        w->inlined_refused++;
        count_inlined(w, defname);
        return 0;
    }
    if (w->npre == w->cappre) {
        size_t cap = w->cappre ? w->cappre * 2 : 1024;
        struct loop_query *g = realloc(w->preemptible, cap * sizeof *g);
        if (!g)
            return (w->failed = 1);
        w->preemptible = g;
        w->cappre = cap;
    }
    w->preemptible[w->npre++] = (struct loop_query){ d->retaddr, (uint8_t)d->kind, false };
    return 0;
}

/* "camlFoo__Bar.frametable" -> "Foo__Bar"; false if the table is not named so. */
static bool unit_name(const char *table, char *out, size_t len)
{
    const char *unit;
    size_t n;
    if (!ocaml_frametable_unit(table, &unit, &n))
        return false;
    snprintf(out, len, "%.*s", (int)n, unit);
    return true;
}

static void keep(struct landing_unit *list, size_t *count, size_t *left_out, const char *unit,
                 const char *entry, size_t sites)
{
    if (*count == LANDING_LIST_MAX) {
        (*left_out)++;
        return;
    }
    struct landing_unit *u = &list[(*count)++];
    /* names longer than the fields are cut (units are short; a table name may not be) */
    snprintf(u->unit, sizeof u->unit, "%.*s", (int)sizeof u->unit - 1, unit);
    snprintf(u->entry, sizeof u->entry, "%.*s", (int)sizeof u->entry - 1, entry);
    u->sites = sites;
}

static const char *covering_entry(const struct ocpreempt_config *c, const char *unit)
{
    for (size_t i = 0; i < c->deny_count; i++)
        if (ocaml_unit_coverage(c->deny[i], unit, strlen(unit)) != UNIT_NOT_COVERED)
            return c->deny[i];
    return NULL;
}

/* The compiler's own units (CamlinternalFormatBasics next to CamlinternalFormat) are not
 * reported: the default list names exactly the ones it means. */
static const char *resembled_entry(const struct ocpreempt_config *c, const char *unit)
{
    if (strncmp(unit, "Stdlib", 6) == 0 || strncmp(unit, "Camlinternal", 12) == 0)
        return NULL;
    for (size_t i = 0; i < c->deny_count; i++)
        if (ocaml_unit_lookalike(c->deny[i], unit, strlen(unit)))
            return c->deny[i];
    return NULL;
}

static int visit_module(const struct frametable_module *m, void *p)
{
    struct walk *w = p;
    struct landing_report *r = w->r;
    w->sites = w->recognised = w->inlined_refused = 0;
    char unit[LANDING_UNIT_MAX];
    const char *entry = unit_name(m->name, unit, sizeof unit)
                        ? covering_entry(&r->config, unit) : "(unnamed table)";
    w->denied = entry != NULL;
    w->module = m;
    w->unit = unit;
    if (frametable_each(m->bytes, m->length, count_site, w) != 0)
        return w->failed ? -1 : 0;         /* census reports malformed tables */
    r->safepoints += w->sites;
    if (entry) {
        r->denied_sites += w->sites;
        if (w->sites)
            keep(r->denied, &r->denied_count, &r->denied_left_out,
                 entry[0] == '(' ? m->name : unit, entry, w->sites);
        return 0;
    }
    r->bad_shape_sites += w->sites - w->recognised;
    r->preemptible_sites += w->recognised - w->inlined_refused;
    const char *like = w->sites ? resembled_entry(&r->config, unit) : NULL;
    if (like)
        keep(r->lookalikes, &r->lookalike_count, &r->lookalike_left_out, unit, like, w->sites);
    return 0;
}

void landing_report_take(const struct elf_image *img, struct landing_report *r)
{
    memset(r, 0, sizeof *r);
    if (config_load(&r->config, r->config_error, sizeof r->config_error) != 0)
        config_defaults(&r->config);
    struct analysis_error err = {{0}};
    /* the extents first: the walk refuses the sites inlined from them */
    const char *user[CONFIG_CRITICAL_MAX];
    for (size_t i = 0; i < r->config.critical_count; i++)
        user[i] = r->config.critical[i];
    if (critical_extents_resolve(img, user, r->config.critical_count, &r->extents, &err) != 0) {
        snprintf(r->error, sizeof r->error, "%s", err.msg);
        return;
    }
    const char *deny[CONFIG_DENY_MAX];
    for (size_t i = 0; i < r->config.deny_count; i++)
        deny[i] = r->config.deny[i];
    struct chain_memo *memo = calloc(1, sizeof *memo);   /* NULL: judged without memo */
    struct walk w = {
        .policy = { deny, r->config.deny_count, &r->extents, memo },
        .img = img, .r = r,
        .targets = { .call_gc = address_of(img, "caml_call_gc"),
                     .alloc1 = address_of(img, "caml_alloc1"),
                     .alloc2 = address_of(img, "caml_alloc2"),
                     .alloc3 = address_of(img, "caml_alloc3"),
                     .allocN = address_of(img, "caml_allocN") },
    };
    int walked = frametable_image_each(img, visit_module, &w, &err);
    if (walked == 0 && loop_sites_mark(img, w.preemptible, w.npre, &r->loops, &err) == 0) {
        for (size_t i = 0; i < w.npre; i++) {
            if (w.preemptible[i].kind == SITE_POLL)
                r->preemptible_poll++;
            else {
                r->preemptible_allocs++;
                r->preemptible_loop_allocs += w.preemptible[i].keep;
            }
        }
    } else {
        walked = -1;
    }
    free(w.preemptible);
    free(memo);
    if (walked != 0) {
        snprintf(r->error, sizeof r->error, "%s", w.failed ? "out of memory" : err.msg);
        return;
    }
    r->ok = true;
}
