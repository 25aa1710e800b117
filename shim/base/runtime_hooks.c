/* runtime_hooks: see runtime_hooks.h. */
#include "runtime_hooks.h"

#include <stdatomic.h>
#include <stddef.h>

#include "runtime.h"

static void (*_Atomic body[RUNTIME_HOOK_COUNT])(void);       /* ours, set at start-up */
static _Atomic uint32_t blocking_epoch = 1;

/* What ours displaced, oldest first: the first install and each re-chaining add the hook
 * found in the slot (systhreads' initialisation replaces ours without chaining it; a
 * library may chain it, and then sits between ours and what ours displaced before). At
 * most DISPLACED_MAX are kept, the most recent ones. Written under `chaining`. */
#define DISPLACED_MAX 8
static void (*_Atomic displaced[RUNTIME_HOOK_COUNT][DISPLACED_MAX])(void);
static _Atomic int displaced_count[RUNTIME_HOOK_COUNT];
static atomic_flag chaining = ATOMIC_FLAG_INIT;

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

static void note_displaced(enum runtime_hook which, void (*hook)(void))
{
    int n = atomic_load_explicit(&displaced_count[which], memory_order_relaxed);
    if (n == DISPLACED_MAX) {                  /* keep the most recent ones */
        for (int i = 1; i < DISPLACED_MAX; i++)
            atomic_store(&displaced[which][i - 1], atomic_load(&displaced[which][i]));
        n--;
    }
    atomic_store(&displaced[which][n], hook);
    atomic_store_explicit(&displaced_count[which], n + 1, memory_order_release);
}

/* Chains body `which` into its slot if installed and not there; true if it had to. Any
 * thread: a few loads when ours is in place; else a short lock (rare). */
static bool chain(enum runtime_hook which)
{
    void (*ours)(void) = atomic_load_explicit(&body[which], memory_order_relaxed);
    void (**slot)(void) = slot_of(which);
    if (!ours || !slot || *(void (*volatile *)(void))slot == ours)
        return false;
    while (atomic_flag_test_and_set_explicit(&chaining, memory_order_acquire))
        ;
    void (*current)(void) = *(void (*volatile *)(void))slot;
    bool replaced = current != ours;
    if (replaced) {
        note_displaced(which, current);
        *(void (*volatile *)(void))slot = ours;
    }
    atomic_flag_clear_explicit(&chaining, memory_order_release);
    return replaced;
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

/* The displaced hook `back` places below the most recent one (NULL: none). */
static void (*displaced_hook(enum runtime_hook which, int back))(void)
{
    int n = atomic_load_explicit(&displaced_count[which], memory_order_acquire);
    return back < n ? atomic_load(&displaced[which][n - 1 - back]) : NULL;
}

/* Per thread, per hook: how deep this thread is in calls of displaced hooks. */
static __thread uint8_t call_depth[RUNTIME_HOOK_COUNT]
    __attribute__((tls_model("initial-exec")));

bool runtime_hook_call_previous(enum runtime_hook which)
{
    uint8_t depth = call_depth[which];
    void (*hook)(void) = displaced_hook(which, depth);
    if (hook && depth < DISPLACED_MAX) {
        call_depth[which] = depth + 1;
        hook();
        call_depth[which] = depth;
    }
    return depth == 0;
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
