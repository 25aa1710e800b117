/* hook_chain_stubs: a library that chains the runtime's hooks the usual way: it saves the
 * hook it displaces and calls it from its own (ocaml-boxroot does so with
 * caml_minor_gc_end_hook), after the shim chained its own (hook_chain.ml). */
#include <stdatomic.h>

#include <caml/misc.h>
#include <caml/mlvalues.h>

static caml_timing_hook saved_minor_gc_end;
static void (*saved_interrupt)(void);
static _Atomic long calls;

extern void (*caml_domain_external_interrupt_hook)(void);
extern void (*caml_enter_blocking_section_hook)(void);
extern void (*caml_leave_blocking_section_hook)(void);
static void (*saved_enter)(void), (*saved_leave)(void);

static void user_minor_gc_end(void)
{
    atomic_fetch_add(&calls, 1);
    if (saved_minor_gc_end)
        saved_minor_gc_end();
}

static void user_interrupt(void)
{
    atomic_fetch_add(&calls, 1);
    if (saved_interrupt)
        saved_interrupt();
}

static void user_enter(void)
{
    atomic_fetch_add(&calls, 1);
    if (saved_enter)
        saved_enter();
}

static void user_leave(void)
{
    atomic_fetch_add(&calls, 1);
    if (saved_leave)
        saved_leave();
}

value hook_chain_blocking(value unit)
{
    (void)unit;
    saved_enter = caml_enter_blocking_section_hook;
    caml_enter_blocking_section_hook = user_enter;
    saved_leave = caml_leave_blocking_section_hook;
    caml_leave_blocking_section_hook = user_leave;
    return Val_unit;
}

value hook_chain_minor_gc_end(value unit)
{
    (void)unit;
    saved_minor_gc_end = atomic_load(&caml_minor_gc_end_hook);
    atomic_store(&caml_minor_gc_end_hook, user_minor_gc_end);
    return Val_unit;
}

value hook_chain_interrupt(value unit)
{
    (void)unit;
    saved_interrupt = caml_domain_external_interrupt_hook;
    caml_domain_external_interrupt_hook = user_interrupt;
    return Val_unit;
}

value hook_chain_calls(value unit)
{
    (void)unit;
    return Val_long(atomic_load(&calls));
}
