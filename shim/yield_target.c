/* yield_target: see yield_target.h. Resolution runs in the interrupt hook (OCaml context,
 * domain lock held); the result is published with a release store so other domains'
 * hooks see a complete value. */
#include "yield_target.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "ocaml_names.h"
#include "runtime.h"
#include "shim_state.h"

#define MAX_CANDIDATES 16
#define CLOSURE_TAG 247

static struct yield_candidate candidates[MAX_CANDIDATES];
static uint64_t candidate_size[MAX_CANDIDATES];      /* code bytes, from the symbol */
static size_t candidate_count;
static char target_name[OCAML_SYMBOL_MAX];
static _Atomic(const uintptr_t *) resolved_field;

int yield_target_prepare(const struct elf_image *img, const char *path, char *why,
                         size_t why_len)
{
    struct analysis_error err;
    size_t found = 0;
    snprintf(target_name, sizeof target_name, "%s", path);
    if (ocaml_yield_candidates(img, path, candidates, MAX_CANDIDATES, &found, &err) != 0) {
        snprintf(why, why_len, "OCPREEMPT_YIELD=%s: %s", path, err.msg);
        return -1;
    }
    if (found == 0) {
        snprintf(why, why_len,
                 "OCPREEMPT_YIELD=%s: no such function in this program; "
                 "`ocpreempt probe PROGRAM` lists candidates", path);
        return -1;
    }
    candidate_count = found < MAX_CANDIDATES ? found : MAX_CANDIDATES;
    for (size_t i = 0; i < candidate_count; i++) {
        struct elf_symbol sym;
        candidate_size[i] = elf_image_symbol(img, candidates[i].code_symbol, &sym) == 0
                                ? sym.size : 1;
    }
    for (size_t i = 0; i < candidate_count; i++)
        if (candidates[i].module_block == 0) {
            snprintf(why, why_len, "OCPREEMPT_YIELD=%s: module block %s not found", path,
                     candidates[i].module_symbol);
            return -1;
        }
    return 0;
}

static int is_closure_for(uintptr_t v, uintptr_t code)
{
    if (v & 1 || v < 4096)
        return 0;
    uintptr_t header = ((const uintptr_t *)v)[-1];
    return (header & 0xFF) == CLOSURE_TAG && ((const uintptr_t *)v)[0] == code;
}

/* The module-block field holding a closure of this candidate's code, or NULL. */
static const uintptr_t *field_holding(const struct yield_candidate *c)
{
    const uintptr_t *block = (const uintptr_t *)(ocaml_rt.bias + c->module_block);
    uintptr_t wosize = block[-1] >> 10;
    if (wosize > c->module_block_size / 8)      /* the extent checked in the file */
        wosize = c->module_block_size / 8;
    uintptr_t code = ocaml_rt.bias + c->code_addr;
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
    const uintptr_t *match = NULL;
    uintptr_t match_code = 0;
    for (size_t i = 0; i < candidate_count; i++) {
        const uintptr_t *f = field_holding(&candidates[i]);
        if (!f)
            continue;
        if (match && candidates[i].code_addr != match_code) {
            char why[OCAML_SYMBOL_MAX * 2];
            snprintf(why, sizeof why, "yield %.200s is ambiguous: %.200s and another toplevel "
                     "function of that name; name the module exactly", target_name,
                     candidates[i].code_symbol);
            shim_disable(why);
            return 0;
        }
        match = f;
        match_code = candidates[i].code_addr;
    }
    if (!match)
        return 0;                        /* module not initialised yet */
    atomic_store_explicit(&resolved_field, match, memory_order_release);
    log_debug("yield %s resolved to the closure in field %p", target_name, (const void *)match);
    return *match;
}

bool yield_target_contains(uintptr_t addr)
{
    for (size_t i = 0; i < candidate_count; i++) {
        uintptr_t start = ocaml_rt.bias + candidates[i].code_addr;
        if (addr >= start && addr < start + candidate_size[i])
            return true;
    }
    return false;
}

const char *yield_target_name(void) { return target_name; }
