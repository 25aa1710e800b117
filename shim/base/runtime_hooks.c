/* runtime_hooks: see runtime_hooks.h. */
#include "runtime_hooks.h"

#include <stdatomic.h>
#include <stddef.h>

#include "runtime.h"

static void (*_Atomic body[RUNTIME_HOOK_COUNT])(void);       /* ours, set at start-up */
static void (*_Atomic previous[RUNTIME_HOOK_COUNT])(void);   /* what ours displaced */
static _Atomic uint32_t blocking_epoch = 1;

static void (**slot_of(enum runtime_hook which))(void)
{
    switch (which) {
    case RUNTIME_HOOK_INTERRUPT: return ocaml_rt.external_interrupt_hook;
    case RUNTIME_HOOK_ENTER_BLOCKING: return ocaml_rt.enter_blocking_section_hook;
    case RUNTIME_HOOK_LEAVE_BLOCKING: return ocaml_rt.leave_blocking_section_hook;
    case RUNTIME_HOOK_MINOR_GC_END: return ocaml_rt.minor_gc_end_hook;
    default: return NULL;
    }
}

/* Chains body `which` into its slot if installed and not there; true if it had to. */
static bool chain(enum runtime_hook which)
{
    void (*ours)(void) = atomic_load_explicit(&body[which], memory_order_relaxed);
    if (!ours)
        return false;
    return runtime_chain_hook(slot_of(which), &previous[which], ours);
}

static void rechain_interrupt(void)
{
    chain(RUNTIME_HOOK_INTERRUPT);
}

static void rechain_blocking(void)
{
    bool replaced = chain(RUNTIME_HOOK_ENTER_BLOCKING);      /* enter before leave */
    replaced |= chain(RUNTIME_HOOK_LEAVE_BLOCKING);
    if (replaced)
        atomic_fetch_add(&blocking_epoch, 1);
}

void runtime_hooks_install_interrupt(void (*hook)(void))
{
    atomic_store(&body[RUNTIME_HOOK_INTERRUPT], hook);
    rechain_interrupt();
}

bool runtime_hooks_install_minor_gc_end(void (*hook)(void))
{
    if (!ocaml_rt.minor_gc_end_hook)
        return false;
    atomic_store(&body[RUNTIME_HOOK_MINOR_GC_END], hook);
    chain(RUNTIME_HOOK_MINOR_GC_END);
    return true;
}

void runtime_hooks_install_blocking(void (*enter)(void), void (*leave)(void))
{
    atomic_store(&body[RUNTIME_HOOK_ENTER_BLOCKING], enter);
    atomic_store(&body[RUNTIME_HOOK_LEAVE_BLOCKING], leave);
    rechain_blocking();
}

void (*runtime_hook_previous(enum runtime_hook which))(void)
{
    return atomic_load_explicit(&previous[which], memory_order_acquire);
}

/* Per thread, per hook: inside the call of the displaced hook. */
static __thread uint8_t calling_previous[RUNTIME_HOOK_COUNT]
    __attribute__((tls_model("initial-exec")));

bool runtime_hook_call_previous(enum runtime_hook which)
{
    if (calling_previous[which])
        return false;                 /* the displaced hook called ours back */
    void (*prev)(void) = runtime_hook_previous(which);
    if (prev) {
        calling_previous[which] = 1;
        prev();
        calling_previous[which] = 0;
    }
    return true;
}

bool runtime_hook_is_ours(enum runtime_hook which)
{
    void (**slot)(void) = slot_of(which);
    void (*ours)(void) = atomic_load_explicit(&body[which], memory_order_relaxed);
    return slot && ours && *(void (*volatile *)(void))slot == ours;
}

uint32_t runtime_hooks_blocking_epoch(void)
{
    return atomic_load(&blocking_epoch);
}

void runtime_hooks_rechain(void)
{
    rechain_interrupt();
    chain(RUNTIME_HOOK_MINOR_GC_END);
    rechain_blocking();
}
