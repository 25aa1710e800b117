/* reexports: following module block fields to the closures they hold (see reexports.h).
 *
 * A copied field names its source by address only; the unit holding that address is
 * found in an index of every `caml<Unit>` block with its extent, built on first need (a
 * program with no copied field never builds it). Layouts of the units visited are read
 * once per call and kept in a small fixed cache, so pointers into it stay valid while the
 * walk recurses.
 */
#include "reexports.h"

#include <stdlib.h>
#include <string.h>

#include "module_layout.h"
#include "ocaml_units.h"

#define CLOSURE_TAG 247
#define MAX_LAYOUTS 16
#define MAX_NESTING 64           /* submodule levels; deeper is misread code */
#define MAX_BLOCK_FIELDS (1u << 20)
#define WORK_BUDGET (64u << 20)  /* fields scanned per call: a bound for misread layouts
                                    (a real walk scans a few thousand) */

struct unit_block {
    uint64_t start, end;         /* link-time extent of the fields */
    const char *name;            /* the symbol's name, valid while the image is open */
};

struct cached_layout {
    const char *name;
    struct module_layout layout;
};

struct walk {
    const struct elf_image *img;
    reexport_visit visit;
    void *ctx;
    const struct module_layout *own;   /* the unit's own block */
    size_t field;                /* its field being followed */
    struct unit_block *blocks;   /* sorted by start; NULL until needed */
    size_t nblocks, cap;
    bool indexed;
    struct cached_layout layouts[MAX_LAYOUTS];
    size_t nlayouts;
    uint64_t budget;             /* fields left to scan */
};

/* Takes n from the budget; false once it is spent (the walk then stops following). */
static bool spend(struct walk *w, size_t n)
{
    if (w->budget < n) {
        w->budget = 0;
        return false;
    }
    w->budget -= n;
    return true;
}

uint64_t reexports_closure_code(const struct elf_image *img, uint64_t closure)
{
    uint64_t w[4];              /* header, code, closure info, direct code (arity != 1) */
    if (closure < 8 || (closure & 7) != 0 || elf_image_read(img, closure - 8, w, 24) != 0)
        return 0;
    uint64_t wosize = w[0] >> 10;
    if ((w[0] & 0xff) != CLOSURE_TAG || wosize < 2)
        return 0;
    int arity = (int8_t)(w[2] >> 56);
    uint64_t code = w[1];
    if (arity != 1) {           /* caml_curryN / caml_tuplifyN first, then the function */
        if (wosize < 3 || elf_image_read(img, closure + 16, &w[3], 8) != 0)
            return 0;
        code = w[3];
    }
    return elf_image_in_code(img, code, 1) ? code : 0;
}

/* ---- the index of module blocks ------------------------------------------------------- */

static int collect_block(const struct elf_symbol *sym, void *ctx)
{
    struct walk *w = ctx;
    uint64_t header;
    if (sym->kind == ELF_SYMBOL_FUNC || sym->kind == ELF_SYMBOL_TLS ||
        !ocaml_block_symbol_name(sym->name) || sym->value < 8 ||
        elf_image_read(w->img, sym->value - 8, &header, sizeof header) != 0)
        return 0;
    uint64_t nfields = header >> 10;
    if (nfields == 0 || nfields > MAX_BLOCK_FIELDS ||
        !elf_image_in_segment(w->img, sym->value, nfields * 8))
        return 0;
    if (w->nblocks == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;
        struct unit_block *b = realloc(w->blocks, cap * sizeof *b);
        if (b == NULL)
            return 1;
        w->blocks = b;
        w->cap = cap;
    }
    w->blocks[w->nblocks++] = (struct unit_block){sym->value, sym->value + nfields * 8,
                                                  sym->name};
    return 0;
}

static int by_start(const void *a, const void *b)
{
    uint64_t x = ((const struct unit_block *)a)->start, y = ((const struct unit_block *)b)->start;
    return x < y ? -1 : x > y;
}

/* The block whose field lies at `addr`, or NULL. */
static const struct unit_block *block_holding(struct walk *w, uint64_t addr)
{
    if (!w->indexed) {
        w->indexed = true;
        if (elf_image_each_symbol(w->img, collect_block, w) != 0)
            w->nblocks = 0;                      /* out of memory: no copy is followed */
        else if (w->nblocks)
            qsort(w->blocks, w->nblocks, sizeof *w->blocks, by_start);
    }
    size_t lo = 0, hi = w->nblocks;              /* first block starting after addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->blocks[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct unit_block *b = &w->blocks[lo - 1];
    return addr < b->end && (addr - b->start) % 8 == 0 ? b : NULL;
}

static const struct module_layout *layout_of(struct walk *w, const char *unit_symbol)
{
    for (size_t i = 0; i < w->nlayouts; i++)
        if (strcmp(w->layouts[i].name, unit_symbol) == 0)
            return w->layouts[i].layout.decoded ? &w->layouts[i].layout : NULL;
    if (w->nlayouts == MAX_LAYOUTS)
        return NULL;
    struct cached_layout *c = &w->layouts[w->nlayouts];
    if (module_layout_read(w->img, unit_symbol, &c->layout) != 0)
        return NULL;
    c->name = unit_symbol;
    w->nlayouts++;
    return c->layout.decoded ? &c->layout : NULL;
}

/* The field copied into word `index` of the submodule block held by field `parent`, or
 * -1 (not decoded: such a copy is not followed). */
static long field_in_submodule(struct walk *w, const struct module_layout *l, long parent,
                               uint32_t index)
{
    if (!spend(w, l->nfields))
        return -1;
    for (size_t g = 0; g < l->nfields; g++)
        if (l->parent[g] == parent && l->index[g] == (long)index)
            return (long)g;
    return -1;
}

/* ---- the walk ---------------------------------------------------------------------------- */

static int follow(struct walk *w, const struct module_layout *l, size_t k, int depth,
                  bool through, int hops);

/* Every field of a foreign block (a whole unit stored in a field: a module alias that
 * kept its field) or of a foreign submodule block, one level down. */
static int follow_children(struct walk *w, const struct module_layout *l, long parent,
                           int depth, int hops)
{
    if (!spend(w, l->nfields))
        return 0;
    for (size_t g = 0; g < l->nfields; g++) {
        if (l->parent[g] != parent)
            continue;
        int rc = follow(w, l, g, depth + 1, true, hops);
        if (rc)
            return rc;
    }
    return 0;
}

/* Field k of the block described by l holds what? hops > 0: l is another unit's. */
static int follow(struct walk *w, const struct module_layout *l, size_t k, int depth,
                  bool through, int hops)
{
    if (hops > REEXPORT_MAX_HOPS || depth > MAX_NESTING)
        return 0;
    uint64_t v = l->value[k];
    if (v != 0) {
        uint64_t code = reexports_closure_code(w->img, v);
        if (code != 0) {
            struct reexported_closure r = {w->own->block, (uint64_t)w->own->nfields * 8,
                                           w->field, depth, through, v, code};
            return w->visit(&r, w->ctx);
        }
        const struct unit_block *b = block_holding(w, v);
        const struct module_layout *unit = b && b->start == v ? layout_of(w, b->name) : NULL;
        return unit ? follow_children(w, unit, -1, depth, hops + 1) : 0;
    }
    const struct field_source *src = &l->source[k];
    if (src->word != 0) {
        const struct unit_block *b = block_holding(w, src->word);
        const struct module_layout *from = b ? layout_of(w, b->name) : NULL;
        long field = b ? (long)((src->word - b->start) / 8) : -1;
        for (unsigned i = 0; from != NULL && field >= 0 && i < src->nloads; i++) {
            uint32_t load = src->load[i];
            field = load % 8 ? -1 : field_in_submodule(w, from, field, load / 8);
        }
        if (from != NULL && field >= 0 && (size_t)field < from->nfields) {
            int rc = follow(w, from, (size_t)field, depth, through, hops + 1);
            if (rc)
                return rc;
        }
    }
    /* A submodule block of another unit: its fields are one level down. (In the unit's
       own block, its submodules' fields are fields of their own, walked at the top.) */
    return hops > 0 ? follow_children(w, l, (long)k, depth, hops) : 0;
}

int reexports_each(const struct elf_image *img, const char *unit_symbol, reexport_visit visit,
                   void *ctx)
{
    struct walk *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -1;
    *w = (struct walk){.img = img, .visit = visit, .ctx = ctx, .budget = WORK_BUDGET};
    const struct module_layout *own = layout_of(w, unit_symbol);
    int rc = own ? 0 : -1;
    w->own = own;
    for (size_t f = 0; own != NULL && f < own->nfields; f++) {
        int depth = module_layout_depth(own, f);
        w->field = f;
        if (depth >= 0 && follow(w, own, f, depth, false, 0) != 0)
            break;
    }
    for (size_t i = 0; i < w->nlayouts; i++)
        module_layout_free(&w->layouts[i].layout);
    free(w->blocks);
    free(w);
    return rc;
}
