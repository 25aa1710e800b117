/* ocaml_names: from an OCaml path to candidate native symbols (see ocaml_names.h).
 *
 * Naming facts this relies on (checked with nm on 5.1.4, 5.3.0 and 4.13 binaries):
 *  - OCaml 5: function `caml<Unit>.<fn>_<stamp>`, module block `caml<Unit>`, data
 *    delimited by `caml<Unit>.data_begin`/`.data_end`; OCaml 4 uses "__" where 5 uses ".";
 *  - functions of submodules drop the submodule path (Inner.yield in sched.ml is
 *    camlSched.yield_270), so "A.B.fn" may mean unit A__B or submodule B of unit A: we try
 *    every split, longest unit first;
 *  - dune wraps a library's modules as units Lib__M (library `lib`) or Lib__sub__M
 *    (library `lib.sub`, Eio__core__Fiber), and users reach them through alias modules
 *    (Eio.Fiber) that leave no field and no symbol: so A.B also tries every unit whose
 *    "__"-separated name starts with A and ends with B (A.B.C.f: A, then B in order, C);
 *  - characters other than [A-Za-z0-9_] are escaped as $xx (yield' -> yield$27).
 * Invariant: every matching symbol is returned with what distinguishes it (location,
 * the module block field holding it and that field's submodule depth); none is picked.
 */
#include "ocaml_names.h"
#include "source_lines.h"

#include <ctype.h>
#include "elfutils.h"     /* libelf, libdw: loaded on first use */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_error.h"
#include "module_layout.h"
#include "ocaml_units.h"
#include "reexports.h"

#define MAX_PATH_PARTS 16
#define CLOSURE_TAG 247
#define MAX_DATA_SCAN (16u << 20)       /* a module's static data larger than this is odd */

/* ocaml_known_yields is in known_yields.c (the shim's front reads it without libdw). */

/* ---- path parsing ------------------------------------------------------------------ */

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '\'';
}

static bool valid_module_name(const char *s, size_t len)
{
    if (len == 0 || !isupper((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_ident_char(s[i]))
            return false;
    return true;
}

static bool valid_value_name(const char *s, size_t len)
{
    if (len == 0 || !(islower((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_ident_char(s[i]))
            return false;
    return true;
}

struct path_parts {
    const char *start[MAX_PATH_PARTS];
    size_t len[MAX_PATH_PARTS];
    size_t count;                         /* modules = count - 1, then the function */
};

static int parse_path(const char *path, struct path_parts *p)
{
    p->count = 0;
    const char *s = path;
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        if (p->count == MAX_PATH_PARTS)
            return -1;
        p->start[p->count] = s;
        p->len[p->count] = len;
        p->count++;
        if (dot == NULL)
            break;
        s = dot + 1;
    }
    if (p->count < 2)
        return -1;
    for (size_t i = 0; i + 1 < p->count; i++)
        if (!valid_module_name(p->start[i], p->len[i]))
            return -1;
    return valid_value_name(p->start[p->count - 1], p->len[p->count - 1]) ? 0 : -1;
}

/* Appends an identifier with OCaml's symbol escaping ($xx for characters outside
 * [A-Za-z0-9_]). Returns false when it does not fit. */
static bool append_mangled(char *buf, size_t cap, size_t *pos, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int n = isalnum((unsigned char)c) || c == '_'
                    ? snprintf(buf + *pos, cap - *pos, "%c", c)
                    : snprintf(buf + *pos, cap - *pos, "$%02x", (unsigned char)c);
        if (n < 0 || (size_t)n >= cap - *pos)
            return false;
        *pos += (size_t)n;
    }
    return true;
}

/* "caml" + modules[0..nmod) joined by "__". */
static bool unit_symbol(const struct path_parts *p, size_t nmod, char *buf, size_t cap)
{
    size_t pos = 0;
    if (!append_mangled(buf, cap, &pos, "caml", 4))
        return false;
    for (size_t i = 0; i < nmod; i++) {
        if (i > 0 && !append_mangled(buf, cap, &pos, "__", 2))
            return false;
        if (!append_mangled(buf, cap, &pos, p->start[i], p->len[i]))
            return false;
    }
    return true;
}

int ocaml_path_split(const char *path, char *unit_symbol_out, size_t unit_len, char *fn,
                     size_t fn_len)
{
    struct path_parts p;
    if (path == NULL || parse_path(path, &p) != 0)
        return -1;
    if (!unit_symbol(&p, p.count - 1, unit_symbol_out, unit_len))
        return -1;
    size_t flen = p.len[p.count - 1];
    if (flen + 1 > fn_len)
        return -1;
    memcpy(fn, p.start[p.count - 1], flen);
    fn[flen] = '\0';
    return 0;
}

/* ---- symbol search ----------------------------------------------------------------- */

#define MAX_INTERPRETATIONS 48
#define MAX_UNIT_PARTS 32

/* One interpretation of the path: unit symbol, the function-symbol prefixes it implies in
 * OCaml 5 ("camlA__B.fn_") and OCaml 4 ("camlA__B__fn_") naming, and the exact symbol a
 * stamped name ("A__B.fn_12") denotes. */
struct interpretation {
    char unit[OCAML_SYMBOL_MAX];
    char prefix5[OCAML_SYMBOL_MAX];
    char prefix4[OCAML_SYMBOL_MAX];
    char exact[OCAML_SYMBOL_MAX];
    int wanted_depth;
};

struct search {
    const struct elf_image *img;
    struct interpretation interp[MAX_INTERPRETATIONS];
    size_t ninterp;
    size_t current;                       /* the interpretation being matched */
    struct yield_candidate *out;
    size_t max, found;
};

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool matches_prefix(const char *name, const char *prefix)
{
    size_t len = strlen(prefix);
    return strncmp(name, prefix, len) == 0 && all_digits(name + len);
}

static bool already_found(const struct search *s, const char *name)
{
    size_t filled = s->found < s->max ? s->found : s->max;
    for (size_t i = 0; i < filled; i++)
        if (strcmp(s->out[i].code_symbol, name) == 0)
            return true;
    return false;
}

static int match_symbol(const struct elf_symbol *sym, void *ctx)
{
    struct search *s = ctx;
    const struct interpretation *in = &s->interp[s->current];
    if (sym->kind != ELF_SYMBOL_FUNC)
        return 0;
    bool stamped = in->exact[0] != '\0' && strcmp(sym->name, in->exact) == 0;
    if (!stamped &&
        !(matches_prefix(sym->name, in->prefix5) || matches_prefix(sym->name, in->prefix4)))
        return 0;
    /* A symbol value is file data: a "function" outside the code is no candidate (the shim
       would compare return addresses against it and call through its closure). */
    if (!elf_image_in_code(s->img, sym->value, sym->size ? sym->size : 1) ||
        already_found(s, sym->name))
        return 0;
    if (s->found < s->max) {
        struct yield_candidate *c = &s->out[s->found];
        memset(c, 0, sizeof *c);
        snprintf(c->code_symbol, sizeof c->code_symbol, "%s", sym->name);
        snprintf(c->module_symbol, sizeof c->module_symbol, "%s", in->unit);
        c->code_addr = sym->value;
        c->code_size = sym->size;
        c->module_field = -1;
        c->depth = -1;
        c->wanted_depth = in->wanted_depth;
        c->stamped = stamped;
    }
    s->found++;
    return 0;
}

static bool add_interpretation(struct search *s, const char *unit, const char *fn,
                               int wanted_depth)
{
    for (size_t i = 0; i < s->ninterp; i++)
        if (strcmp(s->interp[i].unit, unit) == 0 && s->interp[i].wanted_depth == wanted_depth)
            return true;
    if (s->ninterp == MAX_INTERPRETATIONS)
        return true;                              /* more wrapped units than we list */
    struct interpretation *in = &s->interp[s->ninterp];
    int n = snprintf(in->unit, sizeof in->unit, "%s", unit);
    int n5 = snprintf(in->prefix5, sizeof in->prefix5, "%s.%s_", unit, fn);
    int n4 = snprintf(in->prefix4, sizeof in->prefix4, "%s__%s_", unit, fn);
    if (n < 0 || (size_t)n >= sizeof in->unit || n5 < 0 || (size_t)n5 >= sizeof in->prefix5 ||
        n4 < 0 || (size_t)n4 >= sizeof in->prefix4)
        return false;
    /* "yield_1766": maybe a stamped name; only an exact symbol match uses it */
    const char *us = strrchr(fn, '_');
    in->exact[0] = '\0';
    if (us != NULL && us > fn && all_digits(us + 1))
        snprintf(in->exact, sizeof in->exact, "%s.%s", unit, fn);
    in->wanted_depth = wanted_depth;
    s->ninterp++;
    return true;
}

/* Splits a unit name (without "caml") at "__" into at most max parts; returns the count. */
static size_t split_unit(const char *name, const char **part, size_t *len, size_t max)
{
    size_t n = 0;
    const char *p = name;
    while (n < max) {
        const char *sep = strstr(p, "__");
        part[n] = p;
        len[n] = sep ? (size_t)(sep - p) : strlen(p);
        n++;
        if (sep == NULL)
            return n;
        p = sep + 2;
    }
    return 0;                                     /* too many parts: not considered */
}

static bool same_part(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && alen > 0 && strncmp(a, b, alen) == 0;
}

/* Does the unit (parts u) wrap the path's module parts p (dune): same first and last
 * part, p's middle parts in order among u's, and u longer than p? */
static bool unit_wraps(const char **u, const size_t *ulen, size_t nu, const char **p,
                       const size_t *plen, size_t np)
{
    if (np < 2 || nu <= np || !same_part(u[0], ulen[0], p[0], plen[0]) ||
        !same_part(u[nu - 1], ulen[nu - 1], p[np - 1], plen[np - 1]))
        return false;
    size_t j = 1;
    for (size_t i = 1; i + 1 < nu && j + 1 < np; i++)
        if (same_part(u[i], ulen[i], p[j], plen[j]))
            j++;
    return j + 1 == np;
}

struct wrapped_search {
    struct search *s;
    const char *fn;
    const char *part[MAX_UNIT_PARTS];     /* the path's modules, split at "__" too */
    size_t len[MAX_UNIT_PARTS];
    size_t npart;
    int wanted_depth;
    bool ok;
};

static bool is_module_block_symbol(const struct elf_symbol *sym)
{
    return sym->kind != ELF_SYMBOL_FUNC && sym->kind != ELF_SYMBOL_TLS &&
           ocaml_block_symbol_name(sym->name);
}

static int collect_wrapped_unit(const struct elf_symbol *sym, void *ctx)
{
    struct wrapped_search *w = ctx;
    if (!is_module_block_symbol(sym))
        return 0;
    const char *u[MAX_UNIT_PARTS];
    size_t ulen[MAX_UNIT_PARTS];
    size_t nu = split_unit(sym->name + 4, u, ulen, MAX_UNIT_PARTS);
    if (nu > 0 && unit_wraps(u, ulen, nu, w->part, w->len, w->npart) &&
        !add_interpretation(w->s, sym->name, w->fn, w->wanted_depth))
        w->ok = false;
    return 0;
}

static bool build_interpretations(const struct elf_image *img, const struct path_parts *p,
                                  struct search *s)
{
    size_t nmod = p->count - 1;
    char fn[OCAML_SYMBOL_MAX];
    size_t fnpos = 0;
    if (!append_mangled(fn, sizeof fn, &fnpos, p->start[p->count - 1], p->len[p->count - 1]))
        return false;
    s->ninterp = 0;
    for (size_t k = nmod; k >= 1; k--) {           /* longest unit first */
        char unit[OCAML_SYMBOL_MAX];
        int depth = (int)(nmod - k);
        if (!unit_symbol(p, k, unit, sizeof unit) || !add_interpretation(s, unit, fn, depth))
            return false;
        struct wrapped_search w = {.s = s, .fn = fn, .wanted_depth = depth, .ok = true};
        w.npart = split_unit(unit + 4, w.part, w.len, MAX_UNIT_PARTS);
        if (w.npart >= 2)
            elf_image_each_symbol(img, collect_wrapped_unit, &w);
        if (!w.ok)
            return false;
    }
    return true;
}

/* ---- per-candidate details ---------------------------------------------------------- */

static bool unit_data_range(const struct elf_image *img, const char *unit, uint64_t *begin,
                            uint64_t *end)
{
    static const char *const styles[][2] = {{".data_begin", ".data_end"},
                                            {"__data_begin", "__data_end"}};
    for (size_t i = 0; i < 2; i++) {
        char b[OCAML_SYMBOL_MAX + 16], e[OCAML_SYMBOL_MAX + 16];
        snprintf(b, sizeof b, "%s%s", unit, styles[i][0]);
        snprintf(e, sizeof e, "%s%s", unit, styles[i][1]);
        struct elf_symbol sb, se;
        if (elf_image_symbol(img, b, &sb) == 0 && elf_image_symbol(img, e, &se) == 0 &&
            se.value > sb.value && se.value - sb.value <= MAX_DATA_SCAN) {
            *begin = sb.value;
            *end = se.value;
            return true;
        }
    }
    return false;
}

/* A static closure of code_addr in [begin, end): a Closure_tag block whose first code
 * pointer is code_addr, or whose second is (arity > 1: the first is caml_curryN). Returns
 * the block's value address (header + 8), or 0. */
static uint64_t find_static_closure(const uint64_t *words, size_t nwords, uint64_t begin,
                                    uint64_t code_addr)
{
    for (size_t i = 0; i + 1 < nwords; i++) {
        uint64_t hd = words[i];
        uint64_t wosize = hd >> 10;
        if ((hd & 0xff) != CLOSURE_TAG || wosize < 2 || i + wosize >= nwords + 1)
            continue;
        if (words[i + 1] == code_addr)
            return begin + 8 * (i + 1);
        if (wosize >= 3 && i + 3 < nwords && words[i + 3] == code_addr)
            return begin + 8 * (i + 1);
    }
    return 0;
}

/* The field holding the candidate's static closure, preferring one at the depth the path
 * asks for (a toplevel value re-exported by a submodule has a field at each depth). */
static void place_in_module_block(const struct elf_image *img, struct yield_candidate *c)
{
    struct module_layout l;
    if (module_layout_read(img, c->module_symbol, &l) != 0)
        return;
    c->module_block = l.block;
    c->module_block_size = (uint64_t)l.nfields * 8;
    c->layout_known = l.decoded;
    for (size_t f = 0; c->static_closure != 0 && f < l.nfields; f++) {
        if (l.value[f] != c->static_closure)
            continue;
        int depth = module_layout_depth(&l, f);
        if (c->module_field < 0 || depth == c->wanted_depth) {
            c->module_field = (int)f;
            c->depth = depth;
        }
        if (depth == c->wanted_depth)
            break;
    }
    module_layout_free(&l);
}

static void describe_data(const struct elf_image *img, struct yield_candidate *c)
{
    uint64_t begin, end;
    if (unit_data_range(img, c->module_symbol, &begin, &end)) {
        begin &= ~(uint64_t)7;
        size_t nwords = (size_t)((end - begin) / 8);
        uint64_t *words = malloc((nwords ? nwords : 1) * sizeof *words);
        if (words != NULL && elf_image_read(img, begin, words, nwords * 8) == 0)
            c->static_closure = find_static_closure(words, nwords, begin, c->code_addr);
        free(words);
    }
    place_in_module_block(img, c);
}

/* file:line of each candidate from DWARF line info, when there is any. */
static void describe_locations(const struct elf_image *img, struct yield_candidate *c, size_t n)
{
    struct source_lines *sl = n ? source_lines_open(img) : NULL;
    if (sl == NULL)
        return;                       /* location is optional: "" */
    for (size_t i = 0; i < n; i++)
        source_lines_at(sl, c[i].code_addr, c[i].location, sizeof c[i].location);
    source_lines_close(sl);
}

/* ---- re-exports ------------------------------------------------------------------- */

/* The OCaml 5 functions named fn (caml<Unit>.<fn>_<stamp>), by code address. */
struct named_functions {
    const char *fn;                       /* escaped, as in symbols */
    struct elf_symbol *sym;
    size_t count, cap;
};

static bool has_function_name(const char *symbol, const char *fn)
{
    const char *dot = strchr(symbol, '.');
    size_t n = strlen(fn);
    return strncmp(symbol, "caml", 4) == 0 && isupper((unsigned char)symbol[4]) &&
           dot != NULL && strncmp(dot + 1, fn, n) == 0 && dot[1 + n] == '_' &&
           all_digits(dot + 2 + n);
}

static int collect_named(const struct elf_symbol *sym, void *ctx)
{
    struct named_functions *n = ctx;
    if (sym->kind != ELF_SYMBOL_FUNC || !has_function_name(sym->name, n->fn))
        return 0;
    if (n->count == n->cap) {
        size_t cap = n->cap ? 2 * n->cap : 16;
        struct elf_symbol *grown = realloc(n->sym, cap * sizeof *grown);
        if (grown == NULL)
            return 1;
        n->sym = grown;
        n->cap = cap;
    }
    n->sym[n->count++] = *sym;
    return 0;
}

static const struct elf_symbol *named_at(const struct named_functions *n, uint64_t code)
{
    for (size_t i = 0; i < n->count; i++)
        if (n->sym[i].value == code)
            return &n->sym[i];
    return NULL;
}

struct reexport_search {
    struct search *s;
    const struct named_functions *named;
    const struct interpretation *in;
};

/* A candidate for the same code in the same unit's block is already there (the unit's
   own function, placed by place_in_module_block; or the same field met twice). */
static bool already_placed(const struct search *s, uint64_t code, const char *unit)
{
    size_t filled = s->found < s->max ? s->found : s->max;
    for (size_t i = 0; i < filled; i++)
        if (s->out[i].code_addr == code && strcmp(s->out[i].module_symbol, unit) == 0)
            return true;
    return false;
}

static int add_reexport(const struct reexported_closure *r, void *ctx)
{
    struct reexport_search *x = ctx;
    struct search *s = x->s;
    const struct elf_symbol *sym = named_at(x->named, r->code);
    if (sym == NULL || already_placed(s, r->code, x->in->unit))
        return 0;
    if (s->found < s->max) {
        struct yield_candidate *c = &s->out[s->found];
        memset(c, 0, sizeof *c);
        snprintf(c->code_symbol, sizeof c->code_symbol, "%s", sym->name);
        snprintf(c->module_symbol, sizeof c->module_symbol, "%s", x->in->unit);
        c->code_addr = sym->value;
        c->code_size = sym->size;
        c->module_block = r->block;
        c->module_block_size = r->block_size;
        c->static_closure = r->closure;
        c->module_field = (int)r->field;
        c->depth = r->through_submodule ? -1 : r->depth;
        c->wanted_depth = x->in->wanted_depth;
        c->layout_known = true;
        c->reexported = true;
        c->through_submodule = r->through_submodule;
    }
    s->found++;
    return 0;
}

/* Fields of each interpreted unit that hold another unit's function named fn. */
static void find_reexports(const struct elf_image *img, struct search *s, const char *fn)
{
    struct named_functions named = {.fn = fn};
    if (elf_image_each_symbol(img, collect_named, &named) == 0 && named.count > 0) {
        for (size_t i = 0; i < s->ninterp; i++) {
            struct reexport_search x = {s, &named, &s->interp[i]};
            reexports_each(img, s->interp[i].unit, add_reexport, &x);
        }
    }
    free(named.sym);
}

int ocaml_yield_candidates(const struct elf_image *img, const char *path,
                           struct yield_candidate *out, size_t max, size_t *count,
                           struct analysis_error *err)
{
    *count = 0;
    struct path_parts p;
    if (path == NULL || parse_path(path, &p) != 0) {
        analysis_error_set(err, "malformed OCaml path '%s' (expected Module.function, e.g. "
                           "Eio.Fiber.yield)", path ? path : "");
        return -1;
    }
    struct search *s = calloc(1, sizeof *s);
    if (s == NULL) {
        analysis_error_set(err, "out of memory");
        return -1;
    }
    if (!build_interpretations(img, &p, s)) {
        free(s);
        analysis_error_set(err, "OCaml path '%s' is too long", path);
        return -1;
    }
    s->img = img;
    s->out = out;
    s->max = max;
    for (s->current = 0; s->current < s->ninterp; s->current++)
        elf_image_each_symbol(img, match_symbol, s);
    size_t direct = s->found < max ? s->found : max;
    for (size_t i = 0; i < direct; i++)
        describe_data(img, &out[i]);
    char fn[OCAML_SYMBOL_MAX];
    size_t fnpos = 0;
    if (append_mangled(fn, sizeof fn, &fnpos, p.start[p.count - 1], p.len[p.count - 1]))
        find_reexports(img, s, fn);
    size_t filled = s->found < max ? s->found : max;
    describe_locations(img, out, filled);
    *count = s->found;
    free(s);
    return 0;
}
