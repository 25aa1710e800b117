/* hijack: the interrupt hook and the injection (see docs/design.md).
 *
 * Runs in the runtime's pending-action processing on the domain's own thread: at the end of
 * caml_do_pending_actions_res, reached from caml_call_gc (a poll or an allocation that hit
 * the poisoned young_limit) or from any C code processing actions. Only the first case is
 * a place to preempt, recognised by the return address at current_stack->sp being a safe
 * point of the site table.
 *
 * Invariants between the overwrite of that return address and the stub's entry: nothing
 * allocates, runs OCaml code or scans this stack. Hence:
 *  - the previous hook (systhreads may switch threads, letting another thread's GC scan
 *    this stack) runs BEFORE we look at the stack;
 *  - at an allocation site we hijack only when caml_alloc_small_dispatch will not need a
 *    minor GC after we return (young_ptr - bytes >= young_start) and memprof will not
 *    sample the redone allocation;
 *  - stack growth for the stub frame (caml_try_realloc_stack) happens before we read the
 *    slot we overwrite.
 * A request we cannot serve here is dropped: the monitor re-issues it while the fiber stays
 * overdue, so it lands at the next safe point that qualifies. A request for a fiber that has
 * switched since it was issued is dropped too: that fiber yielded in time.
 */
#include "hijack.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "chaos.h"
#include "fiber_log.h"
#include "fiber_name.h"
#include "hook_gate.h"
#include "landing.h"
#include "request.h"
#include "runtime.h"
#include "runtime_hooks.h"
#include "self_clock.h"
#include "shim_state.h"
#include "site_table.h"
#include "stats.h"
#include "stub_abi.h"
#include "thread_registry.h"
#include "trace.h"
#include "yield_target.h"

/* Room the stub needs below the interrupted frame: its frame, the return address of its
 * call, and the runtime's Stack_threshold that leaf code may use without checking. */
#define STUB_STACK_NEED (STUB_FRAME_SIZE + 8 + 32 * 8 + 64)

/* What became of a request: a landing refusal (landing.h: where a preemption may land),
 * or a refusal of this moment (the allocation needs a GC, no room for the stub frame, the
 * yield closure or frame tables not ready), or PREEMPT. */
enum verdict {
    PREEMPT,
    SKIP_NOT_SAFEPOINT, SKIP_MAIN_FIBER, SKIP_CALLBACK, SKIP_DENIED, SKIP_BAD_SHAPE,
    SKIP_SITE_POLICY,
    SKIP_IN_YIELD, SKIP_EXTENT, SKIP_UNWALKABLE, SKIP_MUTEX, SKIP_UNHANDLED,
    SKIP_HEAP_FULL, SKIP_MEMPROF, SKIP_NO_STACK, SKIP_NOT_READY,
};

static const enum verdict landing_to_verdict[] = {
    [LAND_OK] = PREEMPT,                    [LAND_NOT_SAFEPOINT] = SKIP_NOT_SAFEPOINT,
    [LAND_MAIN_FIBER] = SKIP_MAIN_FIBER,    [LAND_CALLBACK] = SKIP_CALLBACK,
    [LAND_DENIED] = SKIP_DENIED,            [LAND_BAD_SHAPE] = SKIP_BAD_SHAPE,
    [LAND_SITE_POLICY] = SKIP_SITE_POLICY,
    [LAND_IN_YIELD] = SKIP_IN_YIELD,        [LAND_EXTENT] = SKIP_EXTENT,
    [LAND_UNWALKABLE] = SKIP_UNWALKABLE,    [LAND_MUTEX] = SKIP_MUTEX,
    [LAND_UNHANDLED] = SKIP_UNHANDLED,
};

static const enum stats_counter verdict_counter[] = {
    [SKIP_NOT_SAFEPOINT] = STAT_skip_not_safepoint, [SKIP_MAIN_FIBER] = STAT_skip_main_fiber,
    [SKIP_CALLBACK] = STAT_skip_callback,           [SKIP_DENIED] = STAT_skip_denied,
    [SKIP_BAD_SHAPE] = STAT_skip_bad_shape,         [SKIP_IN_YIELD] = STAT_skip_in_yield,
    [SKIP_SITE_POLICY] = STAT_skip_site_policy,
    [SKIP_EXTENT] = STAT_skip_extent,               [SKIP_UNWALKABLE] = STAT_skip_unwalkable,
    [SKIP_MUTEX] = STAT_skip_mutex,                 [SKIP_UNHANDLED] = STAT_skip_unhandled,
    [SKIP_HEAP_FULL] = STAT_skip_heap_full,         [SKIP_MEMPROF] = STAT_skip_memprof,
    [SKIP_NO_STACK] = STAT_skip_no_stack,           [SKIP_NOT_READY] = STAT_skip_not_ready,
};

static void count_verdict(struct domain_stats *st, enum verdict v, const struct safepoint *site)
{
    if (v != PREEMPT) {
        stats_count(st, verdict_counter[v]);
        return;
    }
    STAT_INC(st, preemptions);
    stats_count(st, site->kind == SITE_ALLOC ? STAT_preempt_alloc : STAT_preempt_poll);
    site_table_count_preemption(site);
}

static enum verdict check_allocation(void *ds, const struct safepoint *site)
{
    uintptr_t young_ptr = *DS(ds, young_ptr);
    uintptr_t after = young_ptr - site->alloc_bytes;
    if (after < *DS(ds, young_start) || after > young_ptr)
        return SKIP_HEAP_FULL;
    size_t memprof = ocaml_rt.layout.domain_state.memprof_young_trigger;
    if (memprof != (size_t)-1 && after < *ds_field(ds, memprof))
        return SKIP_MEMPROF;
    return PREEMPT;
}

/* Grows the fiber stack if the stub frame would not fit; returns the (maybe new) stack. */
static uintptr_t ensure_stub_room(void *ds, uintptr_t stack)
{
    uintptr_t base = stack + ocaml_rt.layout.stack_info.size;
    if (STACK_FIELD(stack, sp) - base >= STUB_STACK_NEED)
        return stack;
    if (!ocaml_rt.try_realloc_stack(STUB_STACK_NEED / 8))
        return 0;
    return *DS(ds, current_stack);
}

/* The sampler stops asking for a thread's main fiber, which is never preemptible
 * (thread_registry.h: main_stack). Only a true main stack is recorded (a callback on a
 * fiber is refused as LAND_CALLBACK, not here), and the record follows the main stack when
 * it is reallocated, so no fiber is ever exempted for good. */
static void note_main_stack(struct thread_record *t, uintptr_t stack, enum landing_verdict v)
{
    void *main = atomic_load_explicit(&t->main_stack, memory_order_relaxed);
    if (v == LAND_MAIN_FIBER && main != (void *)stack)
        atomic_store_explicit(&t->main_stack, (void *)stack, memory_order_relaxed);
    else if (v != LAND_MAIN_FIBER && main == (void *)stack)
        atomic_store_explicit(&t->main_stack, NULL, memory_order_relaxed);
}

static enum verdict decide(struct thread_record *t, void *ds, const struct safepoint **site_out,
                           uintptr_t *user_frame, uintptr_t *closure_out,
                           struct domain_stats *st)
{
    uintptr_t stack = *DS(ds, current_stack);
    size_t frames;
    uint64_t t0 = stats_tsc();
    enum landing_verdict land = landing_decide(t, ds, site_out, &frames, user_frame);
    stats_record_decision(st, stats_tsc() - t0, frames);
    note_main_stack(t, stack, land);
    if (land != LAND_OK)
        return landing_to_verdict[land];
    const struct safepoint *site = *site_out;
    if (!site_table_ensure_registered())
        return SKIP_NOT_READY;
    uintptr_t closure = yield_target_closure();
    if (!closure)
        return SKIP_NOT_READY;
    *closure_out = closure;
    if (site->kind == SITE_ALLOC) {
        enum verdict v = check_allocation(ds, site);
        if (v != PREEMPT)
            return v;
    }
    if (!ensure_stub_room(ds, stack))
        return SKIP_NO_STACK;
    return PREEMPT;
}

/* The point of no return: from here to the stub's entry nothing may touch the stack. */
static void inject(void *ds, const struct safepoint *site, uintptr_t closure)
{
    uintptr_t stack = *DS(ds, current_stack);
    uintptr_t *slot = (uintptr_t *)STACK_FIELD(stack, sp);
    stub_handoff.orig_retaddr = *slot;
    stub_handoff.shadow_retaddr = site_table_shadow_retaddr(site);
    stub_handoff.live_mask = site->live_mask;
    stub_handoff.alloc_bytes = site->kind == SITE_ALLOC ? site->alloc_bytes : 0;
    stub_handoff.closure = closure;
    stub_handoff.kind = site->kind;
    stub_handoff.entry_tsc = 0;
    *slot = (uintptr_t)ocpreempt_stub_entry;
}

/* What the stub reported through the hand-off record since the last injection on this
 * thread: its entry time (latency) and an absorbed Effect.Unhandled. */
static void collect_stub_reports(struct thread_record *t)
{
    struct domain_stats *st = stats_for_domain(stub_handoff.domain);
    if (stub_handoff.entry_tsc) {
        if (stub_handoff.entry_tsc > stub_handoff.request_tsc && stub_handoff.request_tsc)
            stats_record_latency(st, stub_handoff.entry_tsc - stub_handoff.request_tsc);
        stub_handoff.entry_tsc = 0;
    }
    if (stub_handoff.unhandled_fiber) {
        t->unhandled_fiber = stub_handoff.unhandled_fiber;
        stub_handoff.unhandled_fiber = 0;
        STAT_INC(st, unhandled);
    }
}

/* ---- per-fiber accounting (base/fiber_log.h): plain stores into the thread's log ---------- */

#define NAME_SNAPSHOT_BYTES (64 * 1024)    /* per thread that served a name request; a fiber
                                              deeper than this is named only if preempted */

/* The running fiber's name, walked once per fiber (the last one named is remembered). */
static uintptr_t name_running(struct fiber_log *log, uintptr_t stack)
{
    uint64_t id = STACK_FIELD(stack, id);
    if (log->named_id != id) {
        log->named_name = fiber_name_running(stack);
        log->named_id = id;
    }
    return log->named_name;
}

/* The monitor asked for a fiber's name (fiber_accounts.h). It is walked through a copy
 * (fiber_name.h), even if it is the running one: the hook may have been called outside a
 * safe point, where the shim never walks a stack in place. Returns whether it asked. */
static bool serve_name_request(struct fiber_log *log, void *ds)
{
    uint64_t id = fiber_log_name_wanted(log);
    if (id == 0)
        return false;
    (void)ds;
    uintptr_t stack = atomic_load_explicit(&log->name_want_stack, memory_order_relaxed);
    if (!log->snapshot)
        log->snapshot = malloc(NAME_SNAPSHOT_BYTES);
    uintptr_t name = fiber_name_suspended(stack, id, log->snapshot, NAME_SNAPSHOT_BYTES);
    atomic_store_explicit(&log->name_done_name, name, memory_order_relaxed);
    atomic_store_explicit(&log->name_done_id, id, memory_order_release);
    return true;
}

/* Our post stays while the self-clock's next trip needs it (self_clock.h); otherwise it
 * goes (ours only: a tick posted since stays), unless a request or a name request came in
 * since the hook read them: their posters store them before posting, so one whose post
 * this clear erased is seen here, and posted again. */
static void settle_post(struct thread_record *t, void *ds)
{
    if (self_clock_enabled() && self_clock_keeps_post(t)) {
        runtime_interrupt_post(ds);
        return;
    }
    runtime_interrupt_clear(ds);
    if (atomic_load(&t->want) || (t->fiber_log && fiber_log_name_wanted(t->fiber_log)))
        runtime_interrupt_post(ds);
}

static void log_verdict(struct thread_record *t, void *ds, enum verdict v,
                        const struct safepoint *site)
{
    struct fiber_log *log = t->fiber_log;
    if (!log || v == SKIP_MAIN_FIBER)      /* the main fiber is no fiber: not accounted */
        return;
    uintptr_t stack = *DS(ds, current_stack);
    struct fiber_event e = {
        .id = STACK_FIELD(stack, id), .tsc = stats_tsc(),
        .site = site ? site_table_retaddr(site) : 0, .kind = site ? (uint32_t)site->kind : 0,
        .name = site && v != SKIP_CALLBACK ? name_running(log, stack) : 0,  /* walked in
                                           place only at a safe point, as landing does */
        .verdict = v == PREEMPT ? FIBER_EVENT_PREEMPTED : 1u + (uint32_t)verdict_counter[v],
    };
    fiber_log_event(log, &e);
}

static void serve_pending(struct thread_record *t, void *ds, int domain,
                          struct domain_stats *st, uint64_t entry_tsc, bool self_due);

/* The hook's body: a request (or chaos mode's clock) turned into an injection, or dropped
 * and counted. Runs inside the hook gate (hook_gate.h). */
static void serve_request(struct thread_record *t, uint64_t entry_tsc)
{
    collect_stub_reports(t);
    void *ds = *t->caml_state_slot;
    if (!ds)
        return;
    /* When: chaos mode's clock (chaos.c), the fiber's own clock (self_clock.c), or the
       monitor's request. Where: decide(). */
    bool self_due = false;
    if (chaos_enabled()) {
        if (!chaos_trip(ds))
            return;
    } else {
        bool named = t->fiber_log && serve_name_request(t->fiber_log, ds);
        bool wanted = atomic_exchange(&t->want, 0);
        if (self_clock_enabled())
            self_due = self_clock_trip(t, ds, wanted);
        else if (wanted || named)
            settle_post(t, ds);
        if (!wanted && !self_due) {
            if (self_clock_enabled()) {  /* a trip not yet due is the shim's own cost too */
                settle_post(t, ds);
                stats_record_hook_call(stats_for_domain(*(int *)DS(ds, id)),
                                       stats_tsc() - entry_tsc);
            }
            return;
        }
    }
    if (!stub_unhandled_exn)     /* registered by Stdlib's Effect at its initialisation */
        stub_unhandled_exn = ocaml_rt.named_value("Effect.Unhandled");
    int domain = *(int *)DS(ds, id);
    struct domain_stats *st = stats_for_domain(domain);
    STAT_INC(st, hook_calls);
    serve_pending(t, ds, domain, st, entry_tsc, self_due);
    if (self_clock_enabled())
        settle_post(t, ds);
    /* The hook's time for every call that served a request, whatever came of it: with the
     * monitor's CPU, the shim's own cost (the stats' hook_total_ns). */
    stats_record_hook_call(st, stats_tsc() - entry_tsc);
}

/* serve_request's part once a request (a chaos trip, a due self-clock trip) is pending:
 * is it still due, where may it land, and the injection or the counted refusal. */
static void serve_pending(struct thread_record *t, void *ds, int domain,
                          struct domain_stats *st, uint64_t entry_tsc, bool self_due)
{
    if (!chaos_enabled() && !self_due && !request_still_due(t, ds)) {
        STAT_INC(st, skip_switched);       /* the overdue fiber switched */
        return;
    }

    const struct safepoint *site = NULL;
    uintptr_t closure = 0, user_frame = 0;
    enum verdict v = decide(t, ds, &site, &user_frame, &closure, st);
    if (chaos_enabled() &&
        !chaos_settle(ds, v == PREEMPT, v == SKIP_MAIN_FIBER || v == SKIP_UNHANDLED) &&
        v == PREEMPT)
        return;      /* left out by the replay list (OCPREEMPT_CHAOS=SEED:LIST) */
    count_verdict(st, v, site);
    log_verdict(t, ds, v, site);
    if (self_due)
        self_clock_settle(t, ds, v == PREEMPT, v == SKIP_NOT_SAFEPOINT);
    if (v != PREEMPT) {
        if (!chaos_enabled() && v != SKIP_MAIN_FIBER) {   /* the monitor retries sooner */
            atomic_store_explicit(&t->last_refusal, (int)verdict_counter[v],
                                  memory_order_relaxed);
            atomic_store_explicit(&t->refusals,
                                  atomic_load_explicit(&t->refusals, memory_order_relaxed) + 1,
                                  memory_order_release);
        }
        return;
    }
    /* A self-clocked preemption is requested by the fiber's own trip, at this hook's
       entry: its latency is the hook and the stub's entry, with no request-to-hook delay. */
    uint64_t requested =
        self_due ? entry_tsc : atomic_load_explicit(&t->request_tsc, memory_order_relaxed);
    if (self_due)
        STAT_INC(st, self_clock_preempt);
    uint64_t began = atomic_load_explicit(&t->switch_tsc, memory_order_relaxed);
    if (began != 0 && began < entry_tsc)     /* the run this preemption ends */
        stats_record_preempted_run(st, entry_tsc - began,
                                   stats_ns_to_ticks(shim_config.quantum_ns));
    trace_preemption(domain, site, user_frame, requested);
    stub_handoff.request_tsc = requested;
    stub_handoff.domain = domain;
    request_note_injection(t);
    inject(ds, site, closure);
    stats_record_hook(st, stats_tsc() - entry_tsc);
    if (requested && entry_tsc > requested)
        stats_record_to_hook(st, entry_tsc - requested);
}

static void preempt_interrupt_hook(void)
{
    struct thread_record *t = thread_self();
    /* systhreads' hook hands the runtime lock over only for a tick. When self-clocking
       calls us at every trip, only that is a resumption worth waking the monitor for. */
    void *ds = t && t->caml_state_slot ? *(void *volatile *)t->caml_state_slot : NULL;
    bool tick = ds && atomic_load_explicit(runtime_interrupt_flag(ds), memory_order_relaxed) ==
                          TICK_INTERRUPT;
    uint64_t before_prev = stats_tsc();
    if (!runtime_hook_call_previous(RUNTIME_HOOK_INTERRUPT))
        return;              /* systhreads' may hand the runtime lock over, and get it back */
    uint64_t entry_tsc = stats_tsc();
    if (t)                   /* waiting for the lock is not the fiber's run (self_clock.c) */
        t->away_ticks += entry_tsc - before_prev;
    thread_note_runs_ocaml(t);         /* the runtime calls it at an OCaml thread's checks */
    if (tick || !self_clock_enabled())
        request_thread_resumed(t);
    if (!t || !hook_gate_enter(t))
        return;
    serve_request(t, entry_tsc);
    hook_gate_leave(t);
}

void hijack_install_hook(void)
{
    stub_exn_handler_offset = ocaml_rt.layout.domain_state.exn_handler;
    stub_current_stack_offset = ocaml_rt.layout.domain_state.current_stack;
    stub_stack_id_offset = ocaml_rt.layout.stack_info.id;
    stub_caml_call_gc = ocaml_rt.caml_call_gc;
    runtime_hooks_install_interrupt(preempt_interrupt_hook);
    self_clock_install();
}

