/* yield_target: see yield_target.h. Resolution runs in the interrupt hook (OCaml context,
 * domain lock held); the result is published with a release store so other domains'
 * hooks see a complete value. A named field found holding another function's closure
 * turns preemption off, said once (never a call of a function the name does not mean). */
#include "yield_target.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "exe_memory.h"
#include "log.h"
#include "runtime.h"
#include "shim_state.h"

#define CLOSURE_TAG 247

static struct yield_candidate target;
static char target_name[OCAML_SYMBOL_MAX];
static _Atomic(const uintptr_t *) resolved_field;
static atomic_bool other_said;           /* the F4 refusal was said */

int yield_target_prepare(const struct yield_candidate *chosen, const char *path, char *why,
                         size_t why_len)
{
    target = *chosen;
    snprintf(target_name, sizeof target_name, "%s", path);
    if (target.module_block == 0) {
        snprintf(why, why_len, "yield %s: module block %s not found", path,
                 target.module_symbol);
        return -1;
    }
    if (target.code_size == 0)
        target.code_size = 1;
    return 0;
}

/* A closure of `code`: its first code pointer, or the second after caml_curryN. */
static bool is_closure_for(uintptr_t v, uintptr_t code)
{
    if (v & 1 || v < 4096)
        return false;
    uintptr_t header = ((const uintptr_t *)v)[-1];
    if ((header & 0xFF) != CLOSURE_TAG)
        return false;
    return ((const uintptr_t *)v)[0] == code ||
           ((header >> 10) >= 3 && ((const uintptr_t *)v)[2] == code);
}

/* A closure of any function (an initialised field). */
static bool is_closure(uintptr_t v)
{
    return !(v & 1) && v >= 4096 && (((const uintptr_t *)v)[-1] & 0xFF) == CLOSURE_TAG;
}

/* The field the analysis named; without one (an unread layout, a single candidate) the
 * first direct field holding a closure of the code. NULL while not filled; then *other
 * says whether the named field holds another function's closure instead (the module is
 * initialised and the name means something else at run time: a value chosen while the
 * module initialised, which the analysis of the file cannot see). */
static const uintptr_t *field_holding(bool *other)
{
    *other = false;
    const uintptr_t *block = (const uintptr_t *)(ocaml_rt.bias + target.module_block);
    uintptr_t wosize = block[-1] >> 10;
    if (wosize > target.module_block_size / 8)      /* the extent checked in the file */
        wosize = target.module_block_size / 8;
    uintptr_t code = ocaml_rt.bias + target.code_addr;
    if (target.module_field >= 0) {
        if ((uintptr_t)target.module_field >= wosize)
            return NULL;
        uintptr_t v = block[target.module_field];
        if (is_closure_for(v, code))
            return &block[target.module_field];
        *other = is_closure(v);
        return NULL;
    }
    for (uintptr_t i = 0; i < wosize; i++)
        if (is_closure_for(block[i], code))
            return &block[i];
    return NULL;
}

uintptr_t yield_target_closure(void)
{
    const uintptr_t *field = atomic_load_explicit(&resolved_field, memory_order_acquire);
    if (field)
        return *field;
    bool other;
    field = field_holding(&other);
    if (!field) {
        if (other && !atomic_exchange(&other_said, true)) {
            /* Asking on and on would only count skip_not_ready while the shim says
               "active": say it, and stop the requests (the monitor ends). */
            char why[OCAML_SYMBOL_MAX * 2 + 96];
            snprintf(why, sizeof why, "yield %s holds another function at run time (not "
                     "%s): preemption off", target_name, target.code_symbol);
            shim_disable(why);
        }
        return 0;                        /* module not initialised yet, or F4 above */
    }
    atomic_store_explicit(&resolved_field, field, memory_order_release);
    log_debug("yield %s resolved to %s, the closure in field %p", target_name,
              target.code_symbol, (const void *)field);
    return *field;
}

bool yield_target_contains(uintptr_t addr)
{
    uintptr_t start = ocaml_rt.bias + target.code_addr;
    return addr >= start && addr < start + target.code_size;
}

const char *yield_target_name(void) { return target_name; }

void yield_target_export(struct yield_cached *out)
{
    memset(out, 0, sizeof *out);
    out->target = target;
    memcpy(out->name, target_name, sizeof out->name);
}

static bool ends_in(const char *s, size_t size) { return memchr(s, '\0', size) != NULL; }

int yield_target_restore(const struct yield_cached *c, const struct exe_memory *m, char *why,
                         size_t why_len)
{
    const struct yield_candidate *t = &c->target;
    if (!ends_in(c->name, sizeof c->name) || !ends_in(t->code_symbol, sizeof t->code_symbol) ||
        !ends_in(t->module_symbol, sizeof t->module_symbol) ||
        !ends_in(t->location, sizeof t->location) || t->code_size == 0 ||
        !exe_memory_in_code(m, t->code_addr, t->code_size) || t->module_block == 0 ||
        t->module_block_size > (1u << 24) ||
        t->module_block < 8 ||            /* its header is read too */
        !exe_memory_in_image(m, t->module_block - 8, t->module_block_size + 8) ||
        t->module_field < -1 || t->module_field >= (int)(t->module_block_size / 8 + 1)) {
        snprintf(why, why_len, "yield record out of range");
        return -1;
    }
    return yield_target_prepare(t, c->name, why, why_len);
}
