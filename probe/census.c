/* census: walks the frame tables and classifies every safe point (see census.h).
 *
 * The code-shape check is site_shape_in_image, the rule the shim applies too: it checks the
 * return address lies in the executable's code, then reads the bytes around it straight
 * from the file (code carries no relocations), and resolves call targets against the
 * link-time addresses of caml_call_gc and caml_alloc{1,2,3,N}.
 */
#include "census.h"

#include <stdio.h>
#include <string.h>

#include "frametable_image.h"

struct census_walk {
    const struct elf_image *img;
    struct site_targets targets;
    struct census *out;
    struct analysis_error *err;
};

static uint64_t symbol_address(const struct elf_image *img, const char *name)
{
    struct elf_symbol sym;
    return elf_image_symbol(img, name, &sym) == 0 ? sym.value : 0;
}

static void keep_example(struct census_walk *w, const struct frame_descr_view *d,
                         const uint8_t *code)
{
    struct census *c = w->out;
    if (c->example_count == CENSUS_EXAMPLES)
        return;
    struct census_site *site = &c->examples[c->example_count++];
    memset(site, 0, sizeof *site);
    site->retaddr = d->retaddr;
    site->kind = d->kind;
    site->code_readable = code != NULL;
    if (code != NULL)
        memcpy(site->code, code, sizeof site->code);
    struct elf_symbol fn;
    if (elf_image_symbol_at(w->img, d->retaddr, &fn) == 0)
        snprintf(site->function, sizeof site->function, "%s", fn.name);
}

static void count_safepoint(struct census_walk *w, const struct frame_descr_view *d)
{
    enum site_shape shape;
    const uint8_t *code = NULL;
    if (site_shape_in_image(w->img, d->retaddr, &w->targets, &shape) == 0) {
        code = elf_image_code(w->img, d->retaddr - SITE_CODE_BEFORE, 7);
    } else {
        shape = SHAPE_UNRECOGNISED;
        if (w->out->outside_code++ == 0)
            w->out->first_outside = d->retaddr;
    }
    size_t *shapes = d->kind == SITE_POLL ? w->out->poll_shapes : w->out->alloc_shapes;
    shapes[shape]++;
    if (shape == SHAPE_UNRECOGNISED)
        keep_example(w, d, code);
}

static int visit_descriptor(const struct frame_descr_view *d, void *ctx)
{
    struct census_walk *w = ctx;
    struct census *c = w->out;
    c->descriptors++;
    if ((d->frame_data & FRAME_FLAG_DEBUG) && d->kind != SITE_RETURN_TO_C)
        c->with_debuginfo++;
    switch (d->kind) {
    case SITE_RETURN_TO_C: c->return_to_c++; break;
    case SITE_CALL: c->calls++; break;
    case SITE_POLL: c->polls++; count_safepoint(w, d); break;
    case SITE_ALLOC: c->allocs++; count_safepoint(w, d); break;
    }
    return 0;
}

static int visit_module(const struct frametable_module *m, void *ctx)
{
    struct census_walk *w = ctx;
    w->out->modules++;
    /* frametable_image_each() already validated the table's length, so this only fails
     * if the two decoders disagree: still report it rather than assert */
    if (frametable_each(m->bytes, m->length, visit_descriptor, w) == 0)
        return 0;
    snprintf(w->err->msg, sizeof w->err->msg, "malformed frame table %.200s",
             m->name[0] ? m->name : "(unnamed)");
    return -1;
}

int census_take(const struct elf_image *img, struct census *out, struct analysis_error *err)
{
    memset(out, 0, sizeof *out);
    struct census_walk w = {
        .img = img,
        .targets = {.call_gc = symbol_address(img, "caml_call_gc"),
                    .alloc1 = symbol_address(img, "caml_alloc1"),
                    .alloc2 = symbol_address(img, "caml_alloc2"),
                    .alloc3 = symbol_address(img, "caml_alloc3"),
                    .allocN = symbol_address(img, "caml_allocN")},
        .out = out,
        .err = err,
    };
    return frametable_image_each(img, visit_module, &w, err) == 0 ? 0 : -1;
}

size_t census_safepoints(const struct census *c)
{
    return c->polls + c->allocs;
}

size_t census_recognised(const struct census *c)
{
    return census_safepoints(c) - c->poll_shapes[SHAPE_UNRECOGNISED] -
           c->alloc_shapes[SHAPE_UNRECOGNISED];
}
