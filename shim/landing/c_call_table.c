/* c_call_table: see c_call_table.h.
 *
 * Memory: one sorted array of (return address, C function), allocated at start-up, never
 * freed. A GOT slot is read once, at start-up: the loader has filled it before any
 * constructor runs (GLOB_DAT relocations are never lazy). */
#include "c_call_table.h"

#include <stdlib.h>

#include "c_calls.h"
#include "log.h"
#include "runtime.h"
#include "shim_state.h"

#define ENTRY_SWEEP_MAX 256           /* bytes of caml_c_call decoded to find its call */
#define CALL_CODE_BEFORE 12           /* bytes of code a call's shape needs before it */

struct c_call {
    uintptr_t retaddr;
    uintptr_t function;
};

static const struct elf_image *image;
/* caml_c_call only: caml_c_call_stack_args pushes the arguments it copies below the C
 * stack link before its `call *%rax`, so the word below the link is an argument there and
 * an external of more than 6 arguments counts as unnamed time in C. */
static uint64_t entry;                /* caml_c_call (run-time) */
static uintptr_t entry_return;        /* its `call *%rax` return address */
static struct c_call *calls;
static size_t call_count, call_capacity;
static bool active;

/* The run-time address of caml_c_call and the return address of its call into C. */
static void find_entry(const struct elf_image *img)
{
    struct elf_symbol sym;
    if (elf_image_symbol(img, "caml_c_call", &sym) != 0 ||
        !elf_image_in_code(img, sym.value, 1))
        return;
    uint64_t avail = ENTRY_SWEEP_MAX;
    while (avail > 0 && !elf_image_in_code(img, sym.value, avail))
        avail /= 2;
    uint64_t at = sym.value + ocaml_rt.bias, ret;
    if (c_call_entry_return((const uint8_t *)(uintptr_t)at, avail, at, &ret) != 0)
        return;
    entry = at;
    entry_return = (uintptr_t)ret;
}

void c_call_table_prepare(const struct elf_image *img)
{
    if (!shim_config.stats)
        return;
    image = img;
    find_entry(img);
    active = entry_return != 0;
    if (!active)
        log_debug("stats: caml_c_call's call into C not found: time in C stays unnamed");
}

/* The bytes before run-time address a are the executable's code. */
static bool code_before(uintptr_t a, size_t n)
{
    return a - ocaml_rt.bias >= n && elf_image_in_code(image, a - ocaml_rt.bias - n, n);
}

static uintptr_t resolve(const struct c_call_target *t)
{
    if (t->kind == C_TARGET_DIRECT)
        return (uintptr_t)t->address;
    if (!elf_image_in_segment(image, t->address - ocaml_rt.bias, sizeof(uintptr_t)))
        return 0;
    return *(const uintptr_t *)(uintptr_t)t->address;
}

void c_call_table_note(uintptr_t retaddr)
{
    if (!active || !code_before(retaddr, CALL_CODE_BEFORE))
        return;
    struct c_call_target target;
    if (!c_call_decode_external((const uint8_t *)retaddr, CALL_CODE_BEFORE, retaddr, &entry,
                                1, &target))
        return;
    uintptr_t function = resolve(&target);
    if (!function)
        return;
    if (call_count == call_capacity) {
        size_t cap = call_capacity ? call_capacity * 2 : 256;
        struct c_call *grown = realloc(calls, cap * sizeof *grown);
        if (!grown) {
            active = false;           /* out of memory: unnamed, as without the table */
            return;
        }
        calls = grown;
        call_capacity = cap;
    }
    calls[call_count++] = (struct c_call){ retaddr, function };
}

static int compare_retaddr(const void *a, const void *b)
{
    uintptr_t x = ((const struct c_call *)a)->retaddr, y = ((const struct c_call *)b)->retaddr;
    return x < y ? -1 : x > y;
}

void c_call_table_seal(void)
{
    if (call_count > 1)
        qsort(calls, call_count, sizeof *calls, compare_retaddr);
    if (active)
        log_debug("stats: %zu external calls into C named", call_count);
}

bool c_call_table_is_runtime_c_call(uintptr_t w)
{
    return active && w != 0 && w == entry_return;
}

uintptr_t c_call_table_external(uintptr_t retaddr)
{
    if (!active)
        return 0;
    size_t lo = 0, hi = call_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (calls[mid].retaddr < retaddr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < call_count && calls[lo].retaddr == retaddr ? calls[lo].function : 0;
}

uintptr_t c_call_table_noalloc(uintptr_t w)
{
    if (!active || !code_before(w, CALL_CODE_BEFORE))
        return 0;
    struct c_call_target target;
    if (!c_call_decode_noalloc((const uint8_t *)w, CALL_CODE_BEFORE, w,
                               ocaml_rt.layout.domain_state.c_stack, &target))
        return 0;
    return (uintptr_t)target.address;
}
