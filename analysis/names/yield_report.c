/* yield_report: resolving and discovering yield functions (see yield_report.h).
 *
 * Symbol names are parsed in the OCaml 5 form caml<Unit>.<fn>_<stamp>; units are shown
 * as they are named in symbols (Eio__Fiber, Dune__exe__Main), which ocaml_path_split
 * accepts back as a single module, so every listed path can be passed to --yield.
 */
#include "yield_report.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct ocaml_fn_name {
    char unit[OCAML_SYMBOL_MAX];           /* without "caml" */
    char fn[OCAML_SYMBOL_MAX];             /* without the stamp, still escaped ($27) */
};

/* Splits "camlUnit.fn_123" (OCaml 5 naming). False for anything else. */
static bool parse_ocaml5_symbol(const char *name, struct ocaml_fn_name *out)
{
    if (strncmp(name, "caml", 4) != 0 || !isupper((unsigned char)name[4]))
        return false;
    const char *dot = strchr(name + 4, '.');
    const char *stamp = strrchr(name, '_');
    if (dot == NULL || stamp == NULL || stamp < dot + 2 || stamp[1] == '\0')
        return false;
    for (const char *p = stamp + 1; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    size_t ulen = (size_t)(dot - (name + 4)), flen = (size_t)(stamp - (dot + 1));
    if (ulen >= sizeof out->unit || flen >= sizeof out->fn)
        return false;
    memcpy(out->unit, name + 4, ulen);
    out->unit[ulen] = '\0';
    memcpy(out->fn, dot + 1, flen);
    out->fn[flen] = '\0';
    return true;
}

static const struct yield_candidate *pick(const struct yield_match *m, char *why,
                                          size_t why_len);
static void name_first_copy(const struct elf_image *img, struct yield_match *m);

/* The source its library documents for `path` (Moonpool.yield -> Picos.Fiber.yield), or
 * NULL. */
static const char *documented_source(const char *path)
{
    for (const struct ocaml_documented_reexport *d = ocaml_documented_reexports; d->name; d++)
        if (strcmp(d->name, path) == 0)
            return d->source;
    return NULL;
}

/* Marks the re-exported candidates of a documented path that hold the very function its
 * source resolves to, directly (a function of its own unit), by the same rule. */
static void mark_documented(const struct elf_image *img, struct yield_match *m)
{
    static struct yield_match source;     /* large: off the stack (start-up, one thread) */
    const char *path = documented_source(m->path);
    if (path == NULL || documented_source(path) != NULL)   /* the table's invariant */
        return;
    memset(&source, 0, sizeof source);
    snprintf(source.path, sizeof source.path, "%s", path);
    ocaml_yield_candidates(img, path, source.candidates, YIELD_MAX_CANDIDATES, &source.count,
                           NULL);
    char why[ANALYSIS_ERR_LEN];
    const struct yield_candidate *real = pick(&source, why, sizeof why);
    if (real == NULL || real->reexported)
        return;
    for (size_t i = 0; i < m->count && i < YIELD_MAX_CANDIDATES; i++)
        if (m->candidates[i].reexported && m->candidates[i].code_addr == real->code_addr)
            m->candidates[i].documented = true;
}

/* Candidates of `path`; with name_copies, also a name that resolves to the function a
 * refused copied field holds (for the refusal: resolving that name resolves paths
 * itself, so only the request asks for it). */
static void resolve(const struct elf_image *img, const char *path, struct yield_match *m,
                    struct analysis_error *err, bool name_copies)
{
    memset(m, 0, sizeof *m);
    snprintf(m->path, sizeof m->path, "%s", path);
    ocaml_yield_candidates(img, path, m->candidates, YIELD_MAX_CANDIDATES, &m->count, err);
    mark_documented(img, m);
    if (name_copies)
        name_first_copy(img, m);
}

/* ---- near matches for an unresolved request ---------------------------------------- */

struct near_symbol {
    char symbol[OCAML_SYMBOL_MAX];         /* camlPicos.yield_1234 */
    char path[OCAML_SYMBOL_MAX];           /* Picos.yield: its unit and function */
    uint64_t code;
};

struct near_search {
    char unit[OCAML_SYMBOL_MAX];           /* requested unit without "caml" */
    char fn[OCAML_SYMBOL_MAX];
    struct near_symbol found[YIELD_MAX_NEAR];
    size_t count;
};

static bool contains_ignoring_case(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; haystack++)
        if (strncasecmp(haystack, needle, n) == 0)
            return true;
    return false;
}

static bool is_near(const struct near_search *s, const struct ocaml_fn_name *n)
{
    if (strcmp(n->fn, s->fn) == 0 || strcasecmp(n->fn, s->fn) == 0)
        return true;                                   /* same function, other module */
    if (strcmp(n->unit, s->unit) != 0 && strcasecmp(n->unit, s->unit) != 0)
        return false;
    return strstr(n->fn, s->fn) != NULL || strstr(s->fn, n->fn) != NULL ||
           contains_ignoring_case(n->fn, "yield");         /* similar names in that module */
}

static int collect_near(const struct elf_symbol *sym, void *ctx)
{
    struct near_search *s = ctx;
    struct ocaml_fn_name n;
    if (sym->kind != ELF_SYMBOL_FUNC || !parse_ocaml5_symbol(sym->name, &n) || !is_near(s, &n))
        return 0;
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->found[i].symbol, sym->name) == 0)
            return 0;
    if (s->count == YIELD_MAX_NEAR)
        return 1;
    struct near_symbol *f = &s->found[s->count++];
    snprintf(f->symbol, sizeof f->symbol, "%s", sym->name);
    snprintf(f->path, sizeof f->path, "%.100s.%.60s", n.unit, n.fn);
    f->code = sym->value;
    return 0;
}

/* Does `path` resolve, by the rule, to the function at `code`? */
static bool resolves_to(const struct elf_image *img, const char *path, uint64_t code)
{
    static struct yield_match m;          /* large: off the stack (start-up, one thread) */
    char why[ANALYSIS_ERR_LEN];
    resolve(img, path, &m, NULL, false);
    const struct yield_candidate *c = pick(&m, why, sizeof why);
    return c != NULL && c->code_addr == code;
}

/* A name for the near symbol that the rule resolves back to it: a known scheduler's path
 * (Picos.Fiber.yield), else Unit.fn, else the exact Unit.fn_<stamp> (a function of a
 * submodule, or one a re-export makes ambiguous, has no shorter name that works). */
static void resolving_name(const struct elf_image *img, const struct near_symbol *f,
                           char *buf, size_t len)
{
    for (const char *const *k = ocaml_known_yields; *k != NULL; k++)
        if (resolves_to(img, *k, f->code)) {
            snprintf(buf, len, "%s", *k);
            return;
        }
    if (resolves_to(img, f->path, f->code)) {
        snprintf(buf, len, "%s", f->path);
        return;
    }
    snprintf(buf, len, "%.200s", f->symbol + 4);     /* Unit.fn_<stamp> */
}

/* A copied field sitting where the path says: another unit's function that the unit
 * holds, under a name the binary does not record (not a documented re-export). */
static bool is_copy(const struct yield_candidate *c)
{
    return c->reexported && !c->documented && c->depth >= 0 && c->depth == c->wanted_depth;
}

static void name_first_copy(const struct elf_image *img, struct yield_match *m)
{
    for (size_t i = 0; i < m->count && i < YIELD_MAX_CANDIDATES; i++) {
        const struct yield_candidate *c = &m->candidates[i];
        struct ocaml_fn_name n;
        if (!is_copy(c) || !parse_ocaml5_symbol(c->code_symbol, &n))
            continue;
        struct near_symbol f = {.code = c->code_addr};
        snprintf(f.symbol, sizeof f.symbol, "%s", c->code_symbol);
        snprintf(f.path, sizeof f.path, "%.100s.%.60s", n.unit, n.fn);
        resolving_name(img, &f, m->copy_name, sizeof m->copy_name);
        return;
    }
}

static void find_near_matches(const struct elf_image *img, const char *path,
                              struct yield_report *r)
{
    static struct near_search s;          /* large: off the stack */
    memset(&s, 0, sizeof s);
    char unit[OCAML_SYMBOL_MAX];
    if (ocaml_path_split(path, unit, sizeof unit, s.fn, sizeof s.fn) != 0)
        return;
    snprintf(s.unit, sizeof s.unit, "%s", unit + 4);
    elf_image_each_symbol(img, collect_near, &s);
    for (size_t i = 0; i < s.count; i++) {
        char name[OCAML_SYMBOL_MAX];
        resolving_name(img, &s.found[i], name, sizeof name);
        snprintf(r->near[r->near_count++], OCAML_SYMBOL_MAX, "%.120s (%.120s)", name,
                 s.found[i].symbol);
    }
}

/* ---- discovery --------------------------------------------------------------------- */

static bool is_excluded_unit(const char *unit)
{
    return strcmp(unit, "Thread") == 0 || strncmp(unit, "Stdlib", 6) == 0;
}

/* Is this symbol a candidate of a detected well-known scheduler? */
static bool already_listed(const struct yield_report *r, const char *code_symbol)
{
    for (size_t i = 0; i < r->known_count; i++)
        for (size_t j = 0; j < r->known[i].count && j < YIELD_MAX_CANDIDATES; j++)
            if (strcmp(r->known[i].candidates[j].code_symbol, code_symbol) == 0)
                return true;
    return false;
}

struct toplevel_search {
    const struct elf_image *img;
    struct yield_report *out;
};

static bool unit_already_scanned(const struct yield_report *r, const char *path)
{
    for (size_t i = 0; i < r->toplevel_count; i++)
        if (strcmp(r->toplevel[i].path, path) == 0)
            return true;
    return false;
}

static void keep_toplevel_only(struct yield_match *m)
{
    size_t kept = 0, shown = m->count < YIELD_MAX_CANDIDATES ? m->count : YIELD_MAX_CANDIDATES;
    for (size_t i = 0; i < shown; i++)
        if (m->candidates[i].depth == 0 && m->candidates[i].wanted_depth == 0)
            m->candidates[kept++] = m->candidates[i];
    m->count = kept;
}

static int collect_toplevel(const struct elf_symbol *sym, void *ctx)
{
    struct toplevel_search *s = ctx;
    struct yield_report *r = s->out;
    struct ocaml_fn_name n;
    if (sym->kind != ELF_SYMBOL_FUNC || !parse_ocaml5_symbol(sym->name, &n) ||
        strcmp(n.fn, "yield") != 0 || is_excluded_unit(n.unit) ||
        already_listed(r, sym->name))
        return 0;
    char path[OCAML_SYMBOL_MAX];
    snprintf(path, sizeof path, "%.200s.yield", n.unit);
    if (unit_already_scanned(r, path) || r->toplevel_count == YIELD_MAX_LISTED)
        return 0;
    struct yield_match *m = &r->toplevel[r->toplevel_count];
    resolve(s->img, path, m, NULL, false);
    /* suggested only if the rule resolves the path to a toplevel function (a re-export
       in the same unit can make it ambiguous) */
    char why[ANALYSIS_ERR_LEN];
    const struct yield_candidate *c = pick(m, why, sizeof why);
    if (c == NULL || c->depth != 0)
        return 0;
    keep_toplevel_only(m);
    if (m->count > 0)
        r->toplevel_count++;
    return 0;
}

void yield_report_fill(const struct elf_image *img, const char *requested,
                       struct yield_report *out)
{
    memset(out, 0, sizeof *out);
    if (requested != NULL) {
        out->requested = true;
        struct analysis_error err = {{0}};
        resolve(img, requested, &out->request, &err, true);
        snprintf(out->error, sizeof out->error, "%s", err.msg);
        if (out->request.count == 0 && out->error[0] == '\0')
            find_near_matches(img, requested, out);
        return;
    }
    for (const char *const *k = ocaml_known_yields; *k != NULL; k++) {
        if (out->known_count == YIELD_MAX_LISTED)
            break;
        struct yield_match *m = &out->known[out->known_count];
        resolve(img, *k, m, NULL, false);
        if (m->count > 0)
            out->known_count++;
    }
    struct toplevel_search s = {img, out};
    elf_image_each_symbol(img, collect_toplevel, &s);
}

/* ---- the rule ------------------------------------------------------------------------ */

static size_t shown(const struct yield_match *m)
{
    return m->count < YIELD_MAX_CANDIDATES ? m->count : YIELD_MAX_CANDIDATES;
}

/* Sits where the path says: named by its exact symbol, or held at the path's depth. */
static bool sits(const struct yield_candidate *c)
{
    return c->stamped || (c->depth >= 0 && c->depth == c->wanted_depth);
}

/* May be chosen: sits there and is the unit's own function or a documented re-export. */
static bool fits(const struct yield_candidate *c)
{
    return sits(c) && (!c->reexported || c->documented);
}

void yield_candidate_place(const struct yield_candidate *c, char *buf, size_t len)
{
    const char *reexport = c->reexported ? ", re-exported" : "";
    if (c->through_submodule)
        snprintf(buf, len, "in another unit's submodule, re-exported");
    else if (c->depth == 0)
        snprintf(buf, len, "toplevel%s", reexport);
    else if (c->depth == 1)
        snprintf(buf, len, "in a submodule%s", reexport);
    else if (c->depth > 1)
        snprintf(buf, len, "in a submodule %d levels deep%s", c->depth, reexport);
    else if (c->layout_known)
        snprintf(buf, len, "not a value of its module");
    else
        snprintf(buf, len, "place unknown");
}

void yield_candidate_stamped_name(const struct yield_candidate *c, char *buf, size_t len)
{
    const char *dot = strchr(c->code_symbol, '.');
    snprintf(buf, len, "%.*s.%s", dot ? (int)(dot - c->code_symbol - 4) : 0,
             c->code_symbol + 4, dot ? dot + 1 : c->code_symbol);
}

/* "camlMiou.yield_1766 (miou.ml:373, in a submodule; name it Miou.yield_1766)" */
static size_t describe_candidate(const struct yield_candidate *c, char *buf, size_t len)
{
    char place[64], name[OCAML_SYMBOL_MAX];
    yield_candidate_place(c, place, sizeof place);
    yield_candidate_stamped_name(c, name, sizeof name);
    int n = snprintf(buf, len, "%s (%s%s%s; exact name %s)", c->code_symbol, c->location,
                     c->location[0] ? ", " : "", place, name);
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len;
}

static void list_candidates(const struct yield_match *m, bool only_fitting, char *buf,
                            size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < shown(m) && used + 1 < len; i++) {
        if (only_fitting && !sits(&m->candidates[i]))
            continue;
        if (used > 0)
            used += (size_t)snprintf(buf + used, len - used, " and ");
        if (used < len)
            used += describe_candidate(&m->candidates[i], buf + used, len - used);
    }
}

/* The one rule: the candidate that sits where the path says. */
static const struct yield_candidate *pick(const struct yield_match *m, char *why,
                                          size_t why_len)
{
    const struct yield_candidate *fit = NULL, *any = NULL, *copy = NULL;
    size_t fitting = 0, codes = 0;
    bool layout_known = false;
    for (size_t i = 0; i < shown(m); i++) {
        const struct yield_candidate *c = &m->candidates[i];
        layout_known = layout_known || c->layout_known;
        copy = copy ? copy : is_copy(c) ? c : NULL;
        if (any == NULL || c->code_addr != any->code_addr)
            codes++;
        any = any ? any : c;
        if (fits(c) && (fit == NULL || c->code_addr != fit->code_addr)) {
            fitting++;
            fit = fit ? fit : c;
        }
    }
    char list[1024];
    if (copy != NULL && fitting == 0) {
        /* F3: `let yield = Sched.pause let resume = Sched.yield` holds Sched.yield in
           field `resume`; which field is `yield` is not in the binary. */
        char unit[OCAML_SYMBOL_MAX], fn[OCAML_SYMBOL_MAX], stamped[OCAML_SYMBOL_MAX];
        if (ocaml_path_split(m->path, unit, sizeof unit, fn, sizeof fn) != 0)
            snprintf(unit, sizeof unit, "caml?");
        yield_candidate_stamped_name(copy, stamped, sizeof stamped);
        const char *name = m->copy_name[0] ? m->copy_name : stamped;
        snprintf(why, why_len, "yield %s: %s defines no function %s; one of its fields "
                 "holds a copy of %s (%s), but the binary does not record which name that "
                 "field has: name the function itself (OCPREEMPT_YIELD=%s)", m->path,
                 unit + 4, fn, name, copy->code_symbol, name);
        return NULL;
    }
    if (fitting == 1 && copy == NULL)
        return fit;
    if (fitting >= 1) {
        list_candidates(m, true, list, sizeof list);
        snprintf(why, why_len, "yield %s is ambiguous: %s; name one exactly", m->path, list);
        return NULL;
    }
    /* No module layout could be read (an unknown code shape): a single candidate is
       still the only one the name can mean. */
    if (codes == 1 && !layout_known && m->count == 1)
        return any;
    list_candidates(m, false, list, sizeof list);
    snprintf(why, why_len, "yield function %s not found: no function of that name sits "
             "there; found %s", m->path, list);
    return NULL;
}

static void list_paths(const struct yield_match *m, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", m[i].path);
}

bool yield_report_nothing_known(const struct yield_report *r)
{
    return !r->requested && r->known_count == 0;
}

static const struct yield_candidate *choose_known(const struct yield_report *r,
                                                  const char **path, char *why,
                                                  size_t why_len)
{
    if (r->known_count > 1) {
        char paths[512];
        list_paths(r->known, r->known_count, paths, sizeof paths);
        snprintf(why, why_len, "several schedulers' yields (%s); choose one with "
                 "OCPREEMPT_YIELD / --yield Module.fn", paths);
        return NULL;
    }
    *path = r->known[0].path;
    return pick(&r->known[0], why, why_len);
}

static void explain_nothing_known(const struct yield_report *r, char *why, size_t why_len)
{
    if (r->toplevel_count == 0) {
        snprintf(why, why_len, "no known scheduler's yield (Eio, Miou, Picos) and none named; "
                 "name yours with OCPREEMPT_YIELD / --yield Module.fn");
        return;
    }
    char paths[512];
    list_paths(r->toplevel, r->toplevel_count, paths, sizeof paths);
    snprintf(why, why_len, "no known scheduler's yield (Eio, Miou, Picos); a function merely "
             "named yield is never called unasked: if %s is your scheduler's unit -> unit "
             "yield, name it with OCPREEMPT_YIELD=%s (or --yield)", paths, r->toplevel[0].path);
}

const struct yield_candidate *yield_report_choice(const struct yield_report *r,
                                                  const char **path, char *why,
                                                  size_t why_len)
{
    *path = NULL;
    if (r->requested) {
        *path = r->request.path;
        if (r->error[0] != '\0') {
            snprintf(why, why_len, "%s", r->error);
            return NULL;
        }
        if (r->request.count == 0) {
            snprintf(why, why_len, "yield function %s not found", r->request.path);
            return NULL;
        }
        return pick(&r->request, why, why_len);
    }
    if (r->known_count > 0)
        return choose_known(r, path, why, why_len);
    explain_nothing_known(r, why, why_len);
    return NULL;
}
