/* runtime: the running OCaml 5 runtime as the shim sees it.
 *
 * Bound once at start-up (runtime_bind, constructor context) from the executable's symbol
 * table and DWARF through the analysis library; read-only afterwards, so any context may
 * read it. Invariants:
 *  - every address here is a run-time address (load bias applied);
 *  - a missing symbol or field makes runtime_bind fail: the shim then disables itself;
 *  - required = used: runtime_bind binds exactly the symbols the shim calls or reads, and
 *    the layout table (analysis/runtime/runtime_layout.c) requires exactly the fields it reads;
 *    tests/unit/required_bindings.sh checks both against the shim's sources;
 *  - field accessors take a caml_domain_state* as an opaque `void *` and use the layout's
 *    offsets: nothing is compiled against a particular OCaml version.
 */
#ifndef OCPREEMPT_RUNTIME_H
#define OCPREEMPT_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "elf_image.h"
#include "ocaml_binary.h"
#include "runtime_layout.h"
#include "runtime_profile.h"
#include "shutdown_notice.h"

struct ocaml_runtime {
    uintptr_t bias;                         /* load bias of the executable */
    struct ocaml_binary_info info;
    struct runtime_layout layout;
    struct profile_choice profile;          /* the release profile bound (runtime_profile.h) */

    void (**external_interrupt_hook)(void); /* &caml_domain_external_interrupt_hook */
    void (**leave_blocking_section_hook)(void); /* &caml_leave_blocking_section_hook, or
                                                  NULL (then quiet threads are noticed
                                                  only by the monitor's back-off) */
    void (**enter_blocking_section_hook)(void); /* &caml_enter_blocking_section_hook, or
                                                  NULL (then no thread is parked) */
    void (**minor_gc_end_hook)(void);       /* &caml_minor_gc_end_hook, or NULL (then the
                                               self-clock keeps its post through minor
                                               collections: inject/self_clock.c) */
    /* Adapters bound at start-up to the profile's frame-table ABI (runtime.c): */
    void (*register_frametable)(void *table);     /* registers one table (a stop-the-world) */
    const void *(*find_frame_descr)(uintptr_t pc); /* the runtime's descriptor of pc, or NULL */
    uintptr_t runtime_register_frametable;  /* caml_register_frametable(s), per the profile */
    uintptr_t runtime_find_frame_descr, runtime_get_frame_descrs;
    int (*try_realloc_stack)(uint64_t required_words);
    const uintptr_t *(*named_value)(const char *);
    uintptr_t caml_call_gc;
    uintptr_t frametable;                   /* caml_frametable: NULL-terminated table array */
    uintptr_t caml_state_tls_offset;        /* st_value of the TLS symbol caml_state */
    uintptr_t ml_mutex_lock, ml_mutex_lock_end;       /* code ranges of the OCaml Mutex */
    uintptr_t ml_mutex_unlock, ml_mutex_unlock_end;   /* primitives that call pthread */
    uintptr_t ml_mutex_trylock, ml_mutex_trylock_end;
    struct shutdown_notice shutdown_notice; /* which freelocale call announces
                                               caml_shutdown (shutdown.h), decided once */
    uintptr_t notice_caller, notice_caller_end; /* its caller's run-time range (0, 0: no
                                                   notice: the at-exit report only) */
    uintptr_t ocaml_thread_entry[2];        /* caml_thread_start (systhreads) and
                                               domain_thread_func: start routines of
                                               threads that run OCaml (0: not found) */
};

extern struct ocaml_runtime ocaml_rt;

/* Binds ocaml_rt to the running executable `img`, on the profile of its release
 * (runtime_profile_select; `assume_runtime` is OCPREEMPT_ASSUME_RUNTIME, "" for none).
 * 0 bound; 1 not a process for us (not OCaml 5 native: stay inert); 2 an OCaml 5 release
 * without a profile (5.1, 5.4...: one line where the user asked, runtime_profile.h); -1 an
 * OCaml 5 program we cannot handle (fails its profile's checks, ...); `why` says. */
int runtime_bind(const struct elf_image *img, const char *assume_runtime, char *why,
                 size_t why_len);

/* The analysis cache's record of ocaml_rt (cache_store.h): the same fields, addresses
 * relative to the load bias, strings copied, the profile by series. Raw struct of this
 * engine build (the cache key names the build). */
#define RUNTIME_CACHED_ADDRESSES 19
struct runtime_cached {
    struct ocaml_binary_info info;
    struct runtime_layout layout;           /* builtin_name cleared: see the copy below */
    char builtin_name[16];
    char series[16];
    uint32_t match, notice_kind;
    uint64_t notice_caller, notice_caller_end;
    char notice_why[192];
    uint64_t tls_offset;
    uint64_t rel[RUNTIME_CACHED_ADDRESSES];   /* 0: absent (optional ones only) */
};
struct exe_memory;

/* After a successful runtime_bind. 0, or -1 when a string does not fit the record. */
int runtime_export(struct runtime_cached *out);

/* Binds ocaml_rt from a cached record instead of the file, checking every field: the
 * addresses against the mapped executable `m`, the enums, the strings' ends, the profile
 * and the layout's assumptions. 0, or -1 with why. */
int runtime_restore(const struct runtime_cached *c, const struct exe_memory *m, char *why,
                    size_t why_len);

/* The calling thread's `caml_state` TLS slot (NULL outside the executable's TLS). */
void **runtime_caml_state_slot(void);


/* Is `start` (a pthread start routine) one of the runtime's OCaml thread entries? */
bool runtime_is_ocaml_thread_entry(void *(*start)(void *));

static inline uintptr_t *ds_field(void *ds, size_t off) { return (uintptr_t *)((char *)ds + off); }
static inline _Atomic uintptr_t *ds_atomic(void *ds, size_t off)
{
    return (_Atomic uintptr_t *)((char *)ds + off);
}
#define DS(ds, field) ds_field((ds), ocaml_rt.layout.domain_state.field)
#define DS_ATOMIC(ds, field) ds_atomic((ds), ocaml_rt.layout.domain_state.field)

#define STACK_FIELD(stk, field) \
    (*(uintptr_t *)((char *)(stk) + ocaml_rt.layout.stack_info.field))
#define HANDLER_FIELD(h, field) \
    (*(uintptr_t *)((char *)(h) + ocaml_rt.layout.stack_handler.field))

/* requested_external_interrupt: the runtime calls caml_domain_external_interrupt_hook at a
 * pending-action check while it is non-zero. systhreads' tick thread stores TICK_INTERRUPT
 * (unconditionally) and its hook, which runs before ours, yields the runtime lock only when
 * it swaps TICK_INTERRUPT for 0. The shim's requests and chaos mode use SHIM_INTERRUPT,
 * posted only over 0 and cleared only from SHIM_INTERRUPT: a request never looks like a
 * tick (which would switch threads at every quantum) and never erases one (which would
 * delay a thread switch by a whole tick). A tick pending when we post is enough: the hook
 * chain runs anyway. */
#define TICK_INTERRUPT 1
#define SHIM_INTERRUPT 2

static inline _Atomic uintptr_t *runtime_interrupt_flag(void *ds)
{
    return DS_ATOMIC(ds, requested_external_interrupt);
}

/* Asks for the hook chain at the next check (not the young_limit trip itself). */
static inline void runtime_interrupt_post(void *ds)
{
    uintptr_t idle = 0;
    atomic_compare_exchange_strong(runtime_interrupt_flag(ds), &idle, SHIM_INTERRUPT);
}

/* Makes the domain trip once `remaining` more bytes are allocated on its minor heap (or
 * earlier, at the runtime's own trigger: minor GC, memprof, an interrupt). Raises
 * young_limit only, and only with a compare-and-swap from the value just read, so that the
 * runtime's triggers and an interrupt posted meanwhile (UINTPTR_MAX) are never lost. The
 * domain's own thread, holding its lock (chaos.c, self_clock.c). */
static inline void runtime_young_limit_arm_after(void *ds, uint64_t remaining)
{
    uintptr_t ptr = *DS(ds, young_ptr), start = *DS(ds, young_start);
    if (remaining >= ptr - start)
        return;                              /* the runtime's trigger comes first */
    uintptr_t target = ptr - (uintptr_t)remaining;
    _Atomic uintptr_t *limit = DS_ATOMIC(ds, young_limit);
    uintptr_t current = atomic_load_explicit(limit, memory_order_acquire);
    if (current == UINTPTR_MAX || target <= current)
        return;
    atomic_compare_exchange_strong(limit, &current, target);
}

/* Bytes allocated on the domain's minor heap since young_ptr was last_ptr: a minor
 * collection moved young_ptr back up since, the bytes up to young_start count as
 * allocated; a minor heap that moved counts from its end. Chaos mode's clock, the
 * self-clock's rate. */
static inline uint64_t runtime_minor_bytes_since(void *ds, uintptr_t last_ptr)
{
    uintptr_t ptr = *DS(ds, young_ptr);
    uintptr_t start = *DS(ds, young_start), end = *DS(ds, young_end);
    if (ptr <= last_ptr)
        return last_ptr - ptr;
    if (last_ptr >= start && last_ptr <= end)
        return (last_ptr - start) + (end - ptr);          /* a minor collection */
    return end - ptr;                                     /* the minor heap moved */
}

/* Withdraws our post, never a tick. */
static inline void runtime_interrupt_clear(void *ds)
{
    uintptr_t ours = SHIM_INTERRUPT;
    atomic_compare_exchange_strong(runtime_interrupt_flag(ds), &ours, 0);
}

#endif
