/* critical_extents: see critical_extents.h.
 *
 * Resolution is two passes over the symbol table: the first collects each unit's
 * code_begin/code_end, the second matches function entries. Memory: one array of ranges,
 * grown while resolving, freed by critical_extents_free. */
#include "critical_extents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocaml_units.h"

/* The Stdlib operations that call user code while the library's own structure is in an
 * intermediate state (docs/configuration.md, "Critical extents", gives the survey). */
const struct critical_builtin critical_builtins[] = {
    { "CamlinternalLazy", "a lazy value is being forced: its thunk runs while the block is "
                          "marked as forcing, another fiber forcing it gets Undefined" },
    { "Stdlib__Lazy", "Lazy.map and friends force lazy values (as CamlinternalLazy)" },
    { "Stdlib__Hashtbl", "Hashtbl.Make's hash/equal run between computing the bucket and "
                         "writing it (a resize meanwhile corrupts the table); iter/fold/"
                         "filter_map_inplace callbacks run mid-traversal" },
    { "Stdlib__Weak", "Weak.Make's hash/equal run while a bucket is scanned or resized" },
    { "Stdlib__Ephemeron", "ephemeron tables' hash/equal run mid-insert or mid-resize" },
    { "Stdlib__Format", "%a/%t printers run with the formatter's pretty-printing queue "
                        "mid-print (std_formatter is shared by every fiber)" },
    { "Stdlib__Domain.DLS.get", "Domain.DLS.get runs a key's initialiser before storing "
                                "the value: another fiber of the domain would run it again" },
    { "Stdlib__Domain.do_before_first_spawn", "the first Domain.spawn marks the "
                                              "before-first-spawn functions done, then runs "
                                              "them: another fiber's spawn would skip them" },
    { "Stdlib__Scanf", "%r readers run with the shared scanning buffer mid-token" },
    { "CamlinternalOO", "class initialisers run while the class table is being filled" },
    { "Stdlib__Fun.finally_no_exn", "Fun.protect's ~finally must not raise: a yield there "
                                    "raises a cancelled fiber's cancellation (Eio's "
                                    "Cancelled), which Fun turns into Finally_raised" },
    { NULL, NULL },
};

/* ---- entries -------------------------------------------------------------------------- */

static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
/* An entry as parsed: its module components and, for a function entry, the function. */
struct parsed_entry {
    char unit[CRITICAL_ENTRY_MAX * 2];    /* components joined by "__" */
    size_t component_end[16];             /* end of component i within unit */
    size_t components;
    const char *fn;                       /* NULL for a unit entry */
    size_t fn_len;
};

static int parse_entry(const char *entry, struct parsed_entry *out)
{
    memset(out, 0, sizeof *out);
    const char *p = entry;
    size_t used = 0;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!is_upper(*p)) {
            out->fn = p;
            out->fn_len = n;
            return dot ? -1 : 0;
        }
        if (out->components == 16 || used + n + 3 > sizeof out->unit)
            return -1;
        if (used) {
            memcpy(out->unit + used, "__", 2);
            used += 2;
        }
        memcpy(out->unit + used, p, n);
        used += n;
        out->component_end[out->components++] = used;
        p = dot ? dot + 1 : p + n;
    }
    return out->components ? 0 : -1;
}

/* ---- ranges --------------------------------------------------------------------------- */

struct resolver {
    struct extent_set *set;
    size_t capacity;
    int failed;
    /* units: code_begin / code_end of every unit, collected by the first pass */
    struct unit_code { const char *name; size_t len; uint64_t begin, end; } *units;
    size_t unit_count, unit_capacity;
};

static int add_range(struct resolver *r, uint64_t start, uint64_t end, uint32_t entry)
{
    struct extent_set *s = r->set;
    if (end <= start)
        return 0;
    if (s->count == r->capacity) {
        size_t cap = r->capacity ? r->capacity * 2 : 64;
        struct extent_range *grown = realloc(s->ranges, cap * sizeof *grown);
        if (!grown)
            return -1;
        s->ranges = grown;
        r->capacity = cap;
    }
    s->ranges[s->count++] = (struct extent_range){ start, end, entry };
    return 0;
}

static struct unit_code *unit_slot(struct resolver *r, const char *name, size_t len)
{
    for (size_t i = r->unit_count; i-- > 0;)
        if (r->units[i].len == len && memcmp(r->units[i].name, name, len) == 0)
            return &r->units[i];
    if (r->unit_count == r->unit_capacity) {
        size_t cap = r->unit_capacity ? r->unit_capacity * 2 : 256;
        struct unit_code *grown = realloc(r->units, cap * sizeof *grown);
        if (!grown)
            return NULL;
        r->units = grown;
        r->unit_capacity = cap;
    }
    struct unit_code *u = &r->units[r->unit_count++];
    *u = (struct unit_code){ name, len, 0, 0 };
    return u;
}

static int collect_unit_bounds(const struct elf_symbol *sym, void *p)
{
    struct resolver *r = p;
    const char *unit, *rest;
    size_t len;
    if (!ocaml_symbol_unit(sym->name, &unit, &len, &rest))
        return 0;
    bool begin = strcmp(rest, "code_begin") == 0;
    if (!begin && strcmp(rest, "code_end") != 0)
        return 0;
    struct unit_code *u = unit_slot(r, unit, len);
    if (!u)
        return -1;
    if (begin)
        u->begin = sym->value;
    else
        u->end = sym->value;
    return 0;
}

static int resolve_unit_entry(struct resolver *r, uint32_t index, const char *unit_name)
{
    struct extent_entry *e = &r->set->entry[index];
    for (size_t i = 0; i < r->unit_count; i++) {
        struct unit_code *u = &r->units[i];
        if (u->begin == 0 || u->end <= u->begin ||
            ocaml_unit_coverage(unit_name, u->name, u->len) == UNIT_NOT_COVERED)
            continue;
        if (add_range(r, u->begin, u->end, index) != 0)
            return -1;
        e->units++;
    }
    return 0;
}

/* Function entries: `fn_<digits>` in the unit joined from the first k components, the
 * longest k that has a match. */
struct fn_match {
    struct resolver *r;
    const struct parsed_entry *pe;
    uint32_t index;
    size_t unit_len;                  /* the prefix of pe->unit being tried */
};

static bool is_stamped(const char *rest, const char *fn, size_t fn_len)
{
    if (strncmp(rest, fn, fn_len) != 0 || rest[fn_len] != '_')
        return false;
    const char *d = rest + fn_len + 1;
    if (*d == '\0')
        return false;
    for (; *d; d++)
        if (*d < '0' || *d > '9')
            return false;
    return true;
}

static uint64_t function_end(const struct resolver *r, const struct elf_symbol *sym,
                             const char *unit, size_t len)
{
    if (sym->size)
        return sym->value + sym->size;
    /* No size recorded: up to the end of its unit (over-covering only refuses more). */
    for (size_t i = 0; i < r->unit_count; i++)
        if (r->units[i].len == len && memcmp(r->units[i].name, unit, len) == 0)
            return r->units[i].end > sym->value ? r->units[i].end : sym->value + 1;
    return sym->value + 1;
}

static int match_function(const struct elf_symbol *sym, void *p)
{
    struct fn_match *m = p;
    const char *unit, *rest;
    size_t len;
    if (sym->kind != ELF_SYMBOL_FUNC || !ocaml_symbol_unit(sym->name, &unit, &len, &rest))
        return 0;
    if (len != m->unit_len || memcmp(unit, m->pe->unit, len) != 0 ||
        !is_stamped(rest, m->pe->fn, m->pe->fn_len))
        return 0;
    if (add_range(m->r, sym->value, function_end(m->r, sym, unit, len), m->index) != 0)
        return -1;
    m->r->set->entry[m->index].functions++;
    return 0;
}

static int resolve_function_entry(struct resolver *r, const struct elf_image *img,
                                  uint32_t index, const struct parsed_entry *pe)
{
    for (size_t k = pe->components; k > 0; k--) {
        struct fn_match m = { r, pe, index, pe->component_end[k - 1] };
        if (elf_image_each_symbol(img, match_function, &m) != 0)
            return -1;
        if (r->set->entry[index].functions)
            return 0;
    }
    return 0;
}

static int compare_ranges(const void *a, const void *b)
{
    const struct extent_range *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* Sorted, then overlapping ranges merged into the earlier one. */
static void normalise(struct extent_set *s)
{
    if (s->count == 0)
        return;                 /* no ranges, maybe no array: qsort(NULL, 0) is undefined */
    qsort(s->ranges, s->count, sizeof *s->ranges, compare_ranges);
    size_t out = 0;
    for (size_t i = 0; i < s->count; i++) {
        if (out > 0 && s->ranges[i].start < s->ranges[out - 1].end) {
            if (s->ranges[i].end > s->ranges[out - 1].end)
                s->ranges[out - 1].end = s->ranges[i].end;
            continue;
        }
        s->ranges[out++] = s->ranges[i];
    }
    s->count = out;
}

static int resolve_entry(struct resolver *r, const struct elf_image *img, const char *name,
                         bool builtin, struct analysis_error *err)
{
    struct extent_set *s = r->set;
    if (s->entry_count == CRITICAL_ENTRY_MAX) {
        snprintf(err->msg, sizeof err->msg, "more than %d critical entries",
                 CRITICAL_ENTRY_MAX);
        return -1;
    }
    uint32_t index = (uint32_t)s->entry_count++;
    s->entry[index] = (struct extent_entry){ name, builtin, false, 0, 0 };
    struct parsed_entry pe;
    if (parse_entry(name, &pe) != 0) {
        snprintf(err->msg, sizeof err->msg, "malformed critical entry %.80s", name);
        return -1;
    }
    s->entry[index].function_entry = pe.fn != NULL;
    int rc = pe.fn ? resolve_function_entry(r, img, index, &pe)
                   : resolve_unit_entry(r, index, pe.unit);
    if (rc != 0)
        snprintf(err->msg, sizeof err->msg, "out of memory resolving critical extents");
    return rc;
}

int critical_extents_resolve(const struct elf_image *img, const char *const *user,
                             size_t user_count, struct extent_set *out,
                             struct analysis_error *err)
{
    memset(out, 0, sizeof *out);
    struct resolver r = { out, 0, 0, NULL, 0, 0 };
    int rc = 0;
    if (elf_image_each_symbol(img, collect_unit_bounds, &r) != 0) {
        snprintf(err->msg, sizeof err->msg, "out of memory naming the units");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && critical_builtins[i].entry; i++)
        rc = resolve_entry(&r, img, critical_builtins[i].entry, true, err);
    for (size_t i = 0; rc == 0 && i < user_count; i++)
        rc = resolve_entry(&r, img, user[i], false, err);
    free(r.units);
    if (rc != 0) {
        critical_extents_free(out);
        return -1;
    }
    normalise(out);
    return 0;
}

void critical_extents_free(struct extent_set *set)
{
    free(set->ranges);
    set->ranges = NULL;
    set->count = 0;
}

const struct extent_range *critical_extents_find(const struct extent_set *set, uint64_t pc)
{
    size_t lo = 0, hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct extent_range *r = &set->ranges[mid];
        if (pc < r->start)
            hi = mid;
        else if (pc >= r->end)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

/* ---- names from debuginfo ------------------------------------------------------------- */

#define DEFNAME_MAX 512

/* `path` with "__" read as "." up to its first '.' (a dune-wrapped unit name), written
 * into out. false if it does not fit. */
static bool unwrap_unit(const char *path, char *out, size_t len)
{
    size_t o = 0;
    bool in_unit = true;
    for (const char *p = path; *p; p++) {
        if (o + 1 >= len)
            return false;
        if (*p == '.')
            in_unit = false;
        if (in_unit && p[0] == '_' && p[1] == '_') {
            out[o++] = '.';
            p++;
            continue;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
    return true;
}

/* A unit entry's path joined by "__" (`Mylib.Sched` -> `Mylib__Sched`). */
static bool join_path(const char *entry, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = entry; *p; p++) {
        if (o + 2 >= len)
            return false;
        if (*p == '.') {
            out[o++] = '_';
            out[o++] = '_';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return true;
}

int critical_extents_of_defname(const struct extent_set *set, const char *defname)
{
    if (!is_upper(defname[0]))
        return -1;                    /* "<unknown>": no scope, no unit */
    const char *dot = strchr(defname, '.');
    size_t unit_len = dot ? (size_t)(dot - defname) : strlen(defname);
    char name[DEFNAME_MAX], entry[DEFNAME_MAX];
    bool have_name = unwrap_unit(defname, name, sizeof name);
    for (size_t i = 0; i < set->entry_count; i++) {
        const struct extent_entry *e = &set->entry[i];
        if (e->function_entry) {
            if (have_name && unwrap_unit(e->name, entry, sizeof entry) &&
                strcmp(entry, name) == 0)
                return (int)i;
        } else if (join_path(e->name, entry, sizeof entry) &&
                   ocaml_unit_coverage(entry, defname, unit_len) != UNIT_NOT_COVERED) {
            return (int)i;
        }
    }
    return -1;
}
