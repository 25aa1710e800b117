/* self_clock: see self_clock.h.
 *
 * Two clocks. Every trip reads the TSC (rdtsc, ~20 ns, no system call), i.e. wall time,
 * the clock the switch trampolines already stamp switch_tsc with: a run is the wall time
 * since the switch that began it, minus the time its thread spent off OCaml since the run
 * was first seen (away_ticks: blocking sections, waiting for the runtime lock in
 * systhreads' hook). Wall time is an upper bound of CPU time, so a run under the quantum
 * by the TSC is under it by CPU time too. Only a trip the TSC finds due reads the thread's
 * CPU clock (CLOCK_THREAD_CPUTIME_ID, a system call of ~0.4 us: once per quantum, not per
 * trip), and preempts only if the run has used a quantum of CPU time, the quantum's
 * measure everywhere else (cpu_run_reaches_quantum): a fiber whose thread the kernel
 * descheduled is not cut short, unlike Go's wall-clock preemption.
 *
 * Invariants:
 *  - young_limit is only ever raised, from the value just read (runtime.h,
 *    runtime_young_limit_arm_after): the runtime's minor-GC and memprof triggers and any
 *    interrupt (UINTPTR_MAX) posted meanwhile stand;
 *  - requested_external_interrupt is set to SHIM_INTERRUPT only over 0 and cleared only
 *    from it (runtime.h): a systhreads tick is neither created nor erased. Ours is posted
 *    while a trip is placed in the current minor heap (a collection resets young_limit,
 *    and the post is what makes the runtime call the hook right after it, from
 *    caml_do_pending_actions), and from the last counted collection on;
 *  - the countdown is decremented only on its owner thread: the runtime calls
 *    caml_minor_gc_end_hook on each domain's own thread, for its own minor heap;
 *  - a main fiber (t->main_stack) is never clocked: its trips are not re-armed and do not
 *    count as self-clocked, so the monitor keeps its own slow cadence for it.
 */
#include "self_clock.h"

#include <stdatomic.h>
#include <stdint.h>

#include "request.h"
#include "runtime.h"
#include "runtime_hooks.h"
#include "stats.h"

#define SPACING_DIVISOR 2        /* a running fiber trips at least every Q/2 of allocation */
#define RETRY_DIVISOR 8          /* a due trip refused: the next one Q/8 of allocation later */
#define AIM_PAST_DIVISOR 64      /* the last trip of a run aims Q/64 past its deadline, so
                                    that rate noise rarely makes it an extra early one */
#define FIRST_BYTES (32u << 10)  /* before any rate is known */
#define MIN_BYTES 256u
#define MAX_BYTES (64u << 20)
#define STALE_DIVISOR 4          /* a CPU sample older than Q/4 is read again at a run's start */
#define CALIBRATE_EVERY 4096     /* trips between recalibrations of the quantum in ticks */

static uint64_t quantum_ticks(struct self_clock_state *c)
{
    if (c->quantum_ticks == 0 || c->trips_to_calibrate == 0) {
        c->quantum_ticks = stats_ns_to_ticks(shim_config.quantum_ns);
        c->trips_to_calibrate = CALIBRATE_EVERY;
    }
    c->trips_to_calibrate--;
    return c->quantum_ticks;
}

/* The allocation rate (bytes per TSC tick) since the previous trip, averaged with the
 * estimate so far (each trip halves the weight of the past): trips close together (a poll
 * trip while a request waits) weigh as much as far-apart ones, which is noisy but only
 * moves the next trip, never the deadline it is checked against. */
static void update_rate(struct self_clock_state *c, void *ds, uint64_t now)
{
    uintptr_t ptr = *DS(ds, young_ptr);
    if (c->last_tsc != 0 && now > c->last_tsc) {
        uint64_t bytes = runtime_minor_bytes_since(ds, c->last_ptr);  /* one collection */
        uint64_t collections = c->minor_gcs_counted - c->minor_gcs_to_wait;
        if (c->next_trip == SELF_CLOCK_AFTER_MINOR_GCS && collections > 1)
            bytes += (collections - 1) * (uint64_t)(*DS(ds, young_end) - *DS(ds, young_start));
        double rate = (double)bytes / (double)(now - c->last_tsc);
        if (bytes > 0)
            c->bytes_per_tick = c->bytes_per_tick > 0 ? (c->bytes_per_tick + rate) / 2 : rate;
    }
    c->last_tsc = now;
    c->last_ptr = ptr;
}

static bool counts_minor_gcs;    /* caml_minor_gc_end_hook chained (self_clock_install) */

/* Does Gc.Memprof sample before the allocation point `target`? Each sample resets
 * young_limit and, with our post kept, would call the hook: a trip per sample (every
 * ~100 words at sampling rate 0.01). Such a trip is counted in collections instead: under
 * memprof a fiber clocks itself at its minor collections only, and the monitor, which
 * sees no recent trip otherwise, keeps its cadence. */
static bool memprof_samples_first(void *ds, uintptr_t target)
{
    size_t at = ocaml_rt.layout.domain_state.memprof_young_trigger;
    return at != (size_t)-1 && *ds_field(ds, at) > target;
}

/* The next trip after `ticks` more of this rate's allocation: inside this minor heap by
 * raising young_limit (our post must stay), past its end by counting the collections
 * before it (a collection empties a whole heap; one forced earlier only makes the count
 * end early, never late). */
static void arm_in(struct self_clock_state *c, void *ds, uint64_t ticks)
{
    double want = c->bytes_per_tick > 0 ? c->bytes_per_tick * (double)ticks : FIRST_BYTES;
    uint64_t bytes = want < MIN_BYTES ? MIN_BYTES : want > MAX_BYTES ? MAX_BYTES : (uint64_t)want;
    uintptr_t ptr = *DS(ds, young_ptr), start = *DS(ds, young_start), end = *DS(ds, young_end);
    uint64_t room = ptr > start ? ptr - start : 0, heap = end > start ? end - start : 0;
    bytes |= 1;   /* an odd limit: young_ptr, a multiple of 8, never lands on it. The OCaml
                     poll traps at young_ptr <= young_limit, the runtime's C check acts at
                     young_ptr < young_limit: on equality every poll took the slow path for
                     nothing until the next allocation (adversary: a non-allocating loop
                     3.5-5x slower) */
    bool in_heap = bytes < room && !memprof_samples_first(ds, ptr - bytes);
    if (!counts_minor_gcs || heap == 0 || in_heap) {
        c->next_trip = SELF_CLOCK_IN_HEAP;
        c->minor_gcs_to_wait = 0;
        runtime_young_limit_arm_after(ds, bytes);
        return;
    }
    c->next_trip = SELF_CLOCK_AFTER_MINOR_GCS;
    c->minor_gcs_to_wait = c->minor_gcs_counted = bytes < room ? 1 : 1 + (bytes - room) / heap;
}

/* caml_minor_gc_end_hook: one decrement per collection of a counting thread; the last one
 * posts our interrupt, and the runtime calls the interrupt hook right after the
 * collection (or, collected from C, at the next poll). Inside the collection: plain
 * loads and stores on the thread's own record, and one compare-and-swap. */
static void count_minor_gc(void)
{
    if (!runtime_hook_call_previous(RUNTIME_HOOK_MINOR_GC_END))
        return;
    struct thread_record *t = thread_self();
    if (!t || t->clock.minor_gcs_to_wait == 0 || --t->clock.minor_gcs_to_wait != 0)
        return;
    void **slot = t->caml_state_slot;
    void *ds = slot ? *slot : NULL;
    if (ds)
        runtime_interrupt_post(ds);
}

void self_clock_install(void)
{
    if (self_clock_enabled())
        counts_minor_gcs = runtime_hooks_install_minor_gc_end(count_minor_gc);
}

/* A new run since the last trip: a counted switch (its TSC is the run's start), or a
 * current_stack that changed without one (a fiber that ended, a stack that moved: counted
 * from now, late rather than early). */
static void follow_run(struct thread_record *t, struct self_clock_state *c, void *stack,
                       uint64_t now, bool may_sample_cpu)
{
    uint64_t switches = atomic_load_explicit(&t->switches, memory_order_acquire);
    if (switches == c->switches && stack == c->stack && c->run_start_tsc != 0)
        return;
    uint64_t at = now;
    if (switches != c->switches) {
        uint64_t switch_tsc = atomic_load_explicit(&t->switch_tsc, memory_order_relaxed);
        if (switch_tsc != 0 && switch_tsc <= now && switch_tsc > c->last_tsc)
            at = switch_tsc;
    }
    c->switches = switches;
    c->stack = stack;
    c->run_start_tsc = at;
    c->away_at_start = t->away_ticks;
    c->run_cpu_start_known = false;
    /* The previous due trip's CPU sample bounds this run's CPU start only up to the
       kernel's descheduling since (a loaded host): when it is older than STALE_DIVISOR of
       a quantum, sample the CPU clock here, at the run's first trip, too. */
    c->first_trip_cpu_ns = 0;
    if (may_sample_cpu && c->quantum_ticks != 0 &&
        (c->cpu_sample_tsc == 0 || now - c->cpu_sample_tsc > c->quantum_ticks / STALE_DIVISOR))
        c->first_trip_cpu_ns = thread_cpu_ns(t->cpu_clock);
}

/* The TSC says the run has used a quantum of wall time; has it used one of CPU time, the
 * quantum's measure? One read of the thread's CPU clock, once per due trip. The run's CPU
 * start is bounded above by the previous sample: taken before the run began, by that
 * sample plus the wall time from it to the run's start (CPU time advances no faster);
 * taken during the run, by the sample itself. So the CPU run is never overestimated and a
 * fiber is never preempted before a quantum of its thread's CPU time, as with the
 * monitor (a run whose thread the kernel descheduled is extended, not cut short). No:
 * *left_ticks is at least how long the run still needs. */
static bool cpu_run_reaches_quantum(struct thread_record *t, struct self_clock_state *c,
                                    uint64_t now, uint64_t q, uint64_t *left_ticks)
{
    uint64_t cpu = thread_cpu_ns(t->cpu_clock), q_ns = shim_config.quantum_ns;
    if (!c->run_cpu_start_known) {
        uint64_t bound = cpu;                  /* no sample: counted from now (late) */
        if (c->cpu_sample_tsc != 0 && c->cpu_sample_tsc <= now) {
            bound = c->cpu_sample_ns;
            if (c->cpu_sample_tsc < c->run_start_tsc)
                bound += (uint64_t)((double)(c->run_start_tsc - c->cpu_sample_tsc) *
                                    (double)q_ns / (double)q);
        }
        if (c->first_trip_cpu_ns != 0 && c->first_trip_cpu_ns < bound)
            bound = c->first_trip_cpu_ns;      /* sampled at the run's first trip */
        c->run_cpu_start_ns = bound < cpu ? bound : cpu;
        c->run_cpu_start_known = true;
    }
    c->cpu_sample_ns = cpu;
    c->cpu_sample_tsc = now;
    uint64_t run_ns = cpu - c->run_cpu_start_ns;
    if (run_ns >= q_ns)
        return true;
    *left_ticks = (uint64_t)((double)(q_ns - run_ns) * (double)q / (double)q_ns);
    return false;
}

bool self_clock_trip(struct thread_record *t, void *ds, bool requested)
{
    struct self_clock_state *c = &t->clock;
    uint64_t now = stats_tsc();
    void *stack = *(void *volatile *)DS(ds, current_stack);
    follow_run(t, c, stack, now, !requested);   /* first: it compares the switch with the
                                                   previous trip, which update_rate moves */
    update_rate(c, ds, now);
    c->next_trip = SELF_CLOCK_NONE;
    c->minor_gcs_to_wait = 0;
    if (stack == atomic_load_explicit(&t->main_stack, memory_order_relaxed))
        return false;                 /* never preempted: not clocked, not re-armed */
    uint64_t q = quantum_ticks(c);
    if (requested) {
        /* The monitor found this run overdue by its CPU clock: its request decides, and
           the hook call is not the fiber's own trip (a fiber that does not allocate is
           called only this way: counting it would make the monitor back off for it). */
        arm_in(c, ds, q / SPACING_DIVISOR);
        return false;
    }
    STAT_INC(stats_for_domain(*(volatile int *)DS(ds, id)), self_clock_trips);
    atomic_store_explicit(&t->clock_trip_tsc, now, memory_order_relaxed);
    uint64_t away = t->away_ticks - c->away_at_start;
    uint64_t elapsed = now - c->run_start_tsc;
    uint64_t run = elapsed > away ? elapsed - away : 0;
    uint64_t left = 0;
    if (run >= q) {
        if (cpu_run_reaches_quantum(t, c, now, q, &left))
            return true;              /* armed by self_clock_settle */
        STAT_INC(stats_for_domain(*(volatile int *)DS(ds, id)), self_clock_cpu_defer);
    } else {
        left = q - run;
    }
    left += q / AIM_PAST_DIVISOR;
    uint64_t spacing = q / SPACING_DIVISOR;
    arm_in(c, ds, left < spacing ? left : spacing);
    return false;
}

void self_clock_settle(struct thread_record *t, void *ds, bool preempted, bool in_c)
{
    struct self_clock_state *c = &t->clock;
    uint64_t q = quantum_ticks(c);
    if (preempted) {
        /* The run is over; a trip before the switch (the stub's own allocations) is not
           due again (it would be judged, and refused in the yield function). The switch
           starts the next run (follow_run). */
        c->run_start_tsc = stats_tsc();
        c->away_at_start = t->away_ticks;
        c->run_cpu_start_known = false;
        c->first_trip_cpu_ns = 0;
    }
    /* Either way soon: a retry, or the next run's first trip, which tells the monitor that
       run clocks itself (overdue.c). */
    arm_in(c, ds, q / RETRY_DIVISOR);
    if (in_c) {
        /* Refused because the hook ran from C (Gc.minor, a stub's allocation, where our
           post makes the runtime call it): retry at the next OCaml poll, as a request
           does, rather than after more allocation, which the C code may make again; and
           this run no longer counts as clocking itself, so that the monitor keeps its
           cadence and its retries (adversary: a fiber calling Gc.minor in a loop lost
           half its preemptions, run p50 3.6 Q against 1.1 Q watcher-only). */
        atomic_store_explicit(DS_ATOMIC(ds, young_limit), UINTPTR_MAX, memory_order_release);
        atomic_store_explicit(&t->clock_trip_tsc, 0, memory_order_relaxed);
        request_look_soon(t);        /* the monitor may be backed off for this run */
    }
}
