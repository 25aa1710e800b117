/* loop_sites: see loop_sites.h.
 *
 * Functions are the OCaml code symbols (caml<Unit>.*, with a size), sorted. Each function
 * holding an allocation site is decoded linearly from its start (x86_length.c); every
 * site's return address must be an instruction start, else the function is "undecoded".
 * The jmp at a site's return address (the out-of-line GC call going back into the body)
 * gives the site's place in the body and is not a loop's back edge. Memory: a few arrays
 * freed before returning. */
#include "loop_sites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frametable.h"
#include "ocaml_units.h"
#include "x86_length.h"

struct function { uint64_t start, end; bool has_poll; };

/* The OCaml functions, and the runtime entries whose callers jump back to retry: a
 * function's stack check calls caml_call_realloc_stack and jumps back to its prologue,
 * an allocation's slow path calls caml_call_gc and jumps back to the allocation. Those
 * backward jumps are retries, not loops. */
struct functions { struct function *v; size_t n, cap; uint64_t realloc_stack, call_gc; };

struct span { uint64_t lo, hi; };            /* closed range of body addresses */

struct decoded {
    struct span *loops;                      /* backward branches */
    size_t nloops, caploops;
    uint64_t *polling_calls;                 /* addresses of direct calls to polling fns */
    size_t ncalls, capcalls;
    bool recursive;                          /* calls itself or tail-calls out */
};

static int push(void **v, size_t *n, size_t *cap, size_t size, const void *item)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        void *g = realloc(*v, c * size);
        if (!g)
            return -1;
        *v = g;
        *cap = c;
    }
    memcpy((char *)*v + *n * size, item, size);
    (*n)++;
    return 0;
}

static int collect_function(const struct elf_symbol *sym, void *p)
{
    struct functions *fs = p;
    const char *unit, *rest;
    size_t len;
    if (sym->kind != ELF_SYMBOL_FUNC || sym->size == 0 ||
        !ocaml_symbol_unit(sym->name, &unit, &len, &rest))
        return 0;
    struct function f = { sym->value, sym->value + sym->size, false };
    return push((void **)&fs->v, &fs->n, &fs->cap, sizeof f, &f);
}

static int by_start(const void *a, const void *b)
{
    const struct function *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int by_retaddr(const void *a, const void *b)
{
    const struct loop_query *x = *(const struct loop_query *const *)a;
    const struct loop_query *y = *(const struct loop_query *const *)b;
    return x->retaddr < y->retaddr ? -1 : x->retaddr > y->retaddr;
}

static const struct function *function_at(const struct functions *fs, uint64_t start)
{
    size_t lo = 0, hi = fs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fs->v[mid].start == start)
            return &fs->v[mid];
        if (fs->v[mid].start < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Decodes f; body[i] gets the body address of site q[i]. false: not decodable for sure. */
static bool decode_function(const struct elf_image *img, const struct functions *fs,
                            const struct function *f, struct loop_query **q, size_t nq,
                            uint64_t *body, struct decoded *d, int *oom)
{
    const uint8_t *code = elf_image_code(img, f->start, f->end - f->start);
    if (!code)
        return false;
    size_t next = 0;
    uint64_t last_call = 0;                      /* target of the latest direct call */
    unsigned since_call = 3;                     /* instructions decoded since it */
    for (uint64_t pc = f->start; pc < f->end;) {
        struct x86_insn in;
        bool at_site = next < nq && q[next]->retaddr == pc;
        if (next < nq && q[next]->retaddr < pc)
            return false;                        /* a return address inside an insn */
        if (x86_decode(code + (pc - f->start), f->end - pc, &in) != 0)
            return next == nq;                   /* past every site: jump tables, data */
        uint64_t target = pc + in.length + (uint64_t)in.displacement;
        /* `call caml_call_realloc_stack; pop %r10; jmp` or `call caml_call_gc; jmp` */
        bool retry = since_call <= 2 && last_call &&
                     (last_call == fs->realloc_stack || last_call == fs->call_gc);
        if (at_site) {
            body[next] = in.flow == X86_FLOW_JMP ? target : pc;
            next++;
        } else if ((in.flow == X86_FLOW_JMP || in.flow == X86_FLOW_JCC) && !retry &&
                   target >= f->start && target <= pc) {
            struct span s = { target, pc };
            if (push((void **)&d->loops, &d->nloops, &d->caploops, sizeof s, &s) != 0)
                return (*oom = 1), false;
        }
        if ((in.flow == X86_FLOW_CALL || in.flow == X86_FLOW_JMP) &&
            (target < f->start || target >= f->end || target == f->start)) {
            const struct function *callee = function_at(fs, target);
            if (callee == f || (in.flow == X86_FLOW_JMP && callee))
                d->recursive = true;
            if (in.flow == X86_FLOW_CALL && callee && callee->has_poll &&
                push((void **)&d->polling_calls, &d->ncalls, &d->capcalls, sizeof pc, &pc) != 0)
                return (*oom = 1), false;
        }
        if (in.flow == X86_FLOW_CALL) {
            last_call = target;
            since_call = 0;
        } else if (since_call < 3) {
            since_call++;
        }
        pc += in.length;
    }
    return next == nq;
}

/* Has [lo, hi] a poll site or a direct call to a function with one? */
static bool covered(const struct span *s, struct loop_query **q, const uint64_t *body,
                    size_t nq, const struct decoded *d)
{
    for (size_t i = 0; i < nq; i++)
        if (q[i]->kind == SITE_POLL && body[i] >= s->lo && body[i] <= s->hi)
            return true;
    for (size_t i = 0; i < d->ncalls; i++)
        if (d->polling_calls[i] >= s->lo && d->polling_calls[i] <= s->hi)
            return true;
    return false;
}

static void mark_function(const struct function *f, struct loop_query **q, size_t nq,
                          const uint64_t *body, const struct decoded *d)
{
    struct span whole = { f->start, f->end - 1 };
    bool recursion_needs_allocs = d->recursive && !covered(&whole, q, body, nq, d);
    for (size_t i = 0; i < nq; i++) {
        if (q[i]->kind != SITE_ALLOC)
            continue;
        bool keep = recursion_needs_allocs;
        for (size_t k = 0; !keep && k < d->nloops; k++)
            keep = body[i] >= d->loops[k].lo && body[i] <= d->loops[k].hi &&
                   !covered(&d->loops[k], q, body, nq, d);
        q[i]->keep = keep;
    }
}

static void keep_all(struct loop_query **q, size_t nq)
{
    for (size_t i = 0; i < nq; i++)
        q[i]->keep = q[i]->kind == SITE_ALLOC;
}

int loop_sites_mark(const struct elf_image *img, struct loop_query *queries, size_t n,
                    struct loop_stats *stats, struct analysis_error *err)
{
    memset(stats, 0, sizeof *stats);
    struct functions fs = { NULL, 0, 0, 0, 0 };
    struct loop_query **q = malloc((n ? n : 1) * sizeof *q);
    uint64_t *body = malloc((n ? n : 1) * sizeof *body);
    int rc = -1;
    if (!q || !body || elf_image_each_symbol(img, collect_function, &fs) != 0)
        goto out;
    if (fs.n > 1)                       /* fs.v is NULL without function symbols */
        qsort(fs.v, fs.n, sizeof *fs.v, by_start);
    struct elf_symbol sym;
    if (elf_image_symbol(img, "caml_call_realloc_stack", &sym) == 0)
        fs.realloc_stack = sym.value;
    if (elf_image_symbol(img, "caml_call_gc", &sym) == 0)
        fs.call_gc = sym.value;
    for (size_t i = 0; i < n; i++) {
        queries[i].keep = false;
        q[i] = &queries[i];
    }
    qsort(q, n, sizeof *q, by_retaddr);
    /* Sites outside every function symbol: keep (unsure). First pass: has_poll. */
    size_t j = 0;
    for (size_t k = 0; k < fs.n; k++) {
        while (j < n && q[j]->retaddr < fs.v[k].start)
            q[j]->keep = q[j]->kind == SITE_ALLOC, j++;
        for (; j < n && q[j]->retaddr < fs.v[k].end; j++)
            fs.v[k].has_poll |= q[j]->kind == SITE_POLL;
    }
    for (; j < n; j++)
        q[j]->keep = q[j]->kind == SITE_ALLOC;
    j = 0;
    for (size_t k = 0; k < fs.n; k++) {
        const struct function *f = &fs.v[k];
        while (j < n && q[j]->retaddr < f->start)
            j++;
        size_t a = j;
        bool any_alloc = false;
        for (; j < n && q[j]->retaddr < f->end; j++)
            any_alloc |= q[j]->kind == SITE_ALLOC;
        if (!any_alloc)
            continue;
        stats->functions++;
        struct decoded d = { 0 };
        int oom = 0;
        if (decode_function(img, &fs, f, q + a, j - a, body + a, &d, &oom))
            mark_function(f, q + a, j - a, body + a, &d);
        else if (!oom) {
            stats->undecoded++;
            keep_all(q + a, j - a);
        }
        free(d.loops);
        free(d.polling_calls);
        if (oom)
            goto out;
    }
    for (size_t i = 0; i < n; i++)
        stats->kept += queries[i].keep;
    rc = 0;
out:
    if (rc != 0)
        snprintf(err->msg, sizeof err->msg, "out of memory finding loop sites");
    free(fs.v);
    free(q);
    free(body);
    return rc;
}
