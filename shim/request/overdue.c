/* overdue: when is a fiber overdue, when to look at a thread again, and how its domain is
 * asked to yield.
 *
 * The policy of the request stage, in one place; the monitor (monitor.c) runs it on its
 * own thread, one look at a time, with the record pinned (thread_registry.h). Never in
 * signal context and never on the mutator's own thread, except the two hook-side helpers
 * at the end.
 *
 * A *run* is the time one fiber stays current on a thread without a switch. A fiber is
 * overdue when its run has used a quantum of the thread's CPU time (a thread blocked in a
 * system call accrues none, so it is never disturbed). What a look knows:
 *  - the switch count and the TSC of the last switch (switch_hook.c: exact; without the
 *    hook, only the injected preemptions), the domain's current_stack: cheap reads;
 *  - the thread's CPU clock: a system call, made once per look.
 * The run's start in CPU time is not observable, only bounded: between two looks a thread
 * uses at most as much CPU time as wall time passes, so a run that began at wall time s
 * began at CPU time <= last_cpu + (s - last_look), and <= the CPU time now. The policy
 * always takes that upper bound: a run is never overestimated, so a fiber that switches
 * within its quantum is never preempted; it is exact when the thread ran without pause.
 * A fiber that ended (its stack changed without a switch entry) or a stack that moved is
 * counted from the look that sees it (late, never early).
 *
 * When to look again: at the earliest moment the run can reach the quantum (quantum - run
 * of CPU time cannot pass in less wall time), with a small slack so that close deadlines
 * share one wake. A thread where nothing ran since the last look (blocked, or no domain)
 * is looked at after 2, 4, 8... quanta, at most max(50 ms, quantum) apart; it is marked
 * backed_off so that leaving a blocking section wakes the monitor at once (blocking_hooks.c). A
 * thread inside a blocking section whose end our hooks will see is parked: looked at
 * every LOOK_PARKED_NS only, without reading its CPU clock (its leave wakes the monitor). A
 * thread running its main fiber (never preempted) backs off the same way, to 8 quanta,
 * and every MAIN_FIBER_RECHECK-th look still asks the hook (no exemption can stick).
 *
 * The interrupt is the runtime's own: requested_external_interrupt = SHIM_INTERRUPT (2,
 * only over 0: never a tick's 1, which systhreads' hook would take for its own, and never
 * over one; runtime.h), then young_limit = UINTNAT_MAX (release), as systhreads' tick
 * thread does from another thread. The next
 * look comes a quantum and a grace later: by then the fiber the preemption switched to
 * has run a quantum if the preemption took at most the grace, so that look issues its
 * request (one wake per quantum); a fiber still overdue gets the request again (the hook
 * drops requests it cannot serve, and 5.3's caml_reset_young_limit can overwrite a
 * poisoned young_limit).
 */
#include <stdatomic.h>
#include <string.h>

#include "doorbell.h"
#include "request.h"
#include "runtime.h"
#include "shim_state.h"
#include "stall_watch.h"
#include "stats.h"
#include "switch_hook.h"

/* One look in this many at an overdue run on the thread's (presumed) main stack asks the
 * hook again: at most one wasted hook call per 8 * 4 = 32 quanta of a main fiber's CPU. */
#define MAIN_FIBER_RECHECK 4

/* Slack of a look at a running thread: a wake may serve looks due this much later (and a
 * run may last this much longer than the quantum). Also the monitor's timer slack. */
uint64_t overdue_running_slack_ns(void)
{
    uint64_t s = shim_config.quantum_ns / 64;
    return s < RUNNING_SLACK_MAX_NS ? s : RUNNING_SLACK_MAX_NS;
}

/* After a refused request, the next one comes Q/4 to Q/2 later: the jitter keeps a fiber
 * whose critical sections recur with a period near the quantum from locking the retries
 * onto them (a fixed Q + Q/32 made 270 ms runs at a 10 ms quantum with 9 ms sections). */
static uint64_t refused_retry_after(uint64_t now_ns)
{
    uint64_t q = shim_config.quantum_ns;
    uint64_t mix = (now_ns ^ (now_ns >> 17)) * 0x9e3779b97f4a7c15ull;
    return q / 4 + (mix >> 40) % (q / 4 + 1);
}

/* After a request, the next look comes a quantum plus this later: if the preemption took
 * at most this long, the next fiber's run has reached the quantum by then, and one wake
 * serves both the check and the next request (one wake per quantum, not two). */
static uint64_t request_grace(void)
{
    uint64_t g = shim_config.quantum_ns / 64;
    return g < REQUEST_GRACE_MAX_NS ? g : REQUEST_GRACE_MAX_NS;
}

static void schedule(struct look_state *l, uint64_t at_ns, uint64_t slack_ns)
{
    l->next_look_ns = at_ns;
    l->slack_ns = slack_ns;
}

/* Nothing to preempt since the last look: look again later and later, at most `max`
 * apart. */
static void back_off_to(struct thread_record *t, uint64_t now_ns, uint64_t max)
{
    struct look_state *l = &t->look;
    uint64_t q = shim_config.quantum_ns;
    if (l->quiet_looks < 32)
        l->quiet_looks++;
    uint64_t interval = l->quiet_looks < 20 ? q << l->quiet_looks : max;
    if (interval > max)
        interval = max;
    schedule(l, now_ns + interval, interval / 2);
    atomic_store_explicit(&t->backed_off, interval > q, memory_order_relaxed);
}

static uint64_t backoff_max(void)
{
    uint64_t q = shim_config.quantum_ns;
    return q > LOOK_BACKOFF_MAX_NS ? q : LOOK_BACKOFF_MAX_NS;
}

/* Nothing ran since the last look (blocked, or no domain). */
static void back_off(struct thread_record *t, uint64_t now_ns)
{
    back_off_to(t, now_ns, backoff_max());
}

/* Is t's running fiber clocking itself (inject/self_clock.c)? Its thread made a
 * self-clocked trip less than a quantum of its CPU time ago (within the last quantum of
 * wall time, or since the previous look with less than a quantum of CPU time used since
 * that look: a thread the kernel descheduled makes no trip, nor runs): CLOCKED_RUN if that
 * trip came after the switch that began the run, CLOCKED_BEFORE if it came before (the
 * run has not tripped yet: a fiber that allocates trips an eighth of a quantum into a run
 * that follows a self-clocked preemption; one that does not allocate never does). */
enum clocking { NOT_CLOCKED, CLOCKED_BEFORE, CLOCKED_RUN };

static enum clocking self_clocked(struct thread_record *t, uint64_t switch_tsc,
                                  uint64_t now_tsc, uint64_t prev_look_tsc,
                                  uint64_t cpu_since_look_ns)
{
    if (!shim_config.self_clock || shim_config.chaos)
        return NOT_CLOCKED;
    uint64_t trip = atomic_load_explicit(&t->clock_trip_tsc, memory_order_relaxed);
    if (trip == 0 || trip > now_tsc)
        return NOT_CLOCKED;
    bool recent = stats_ticks_to_ns(now_tsc - trip) < shim_config.quantum_ns ||
                  (prev_look_tsc != 0 && trip > prev_look_tsc &&
                   cpu_since_look_ns < shim_config.quantum_ns);
    if (!recent)
        return NOT_CLOCKED;
    return trip > switch_tsc ? CLOCKED_RUN : CLOCKED_BEFORE;
}

uint64_t overdue_self_clock_backoff_max_ns(void)
{
    return SELF_CLOCK_BACKOFF_QUANTA * shim_config.quantum_ns;
}

/* A self-clocked run: its own trips will preempt it, so look again 2, 4, 8... quanta
 * later (Go's sysmon doubles its sleep the same way), at most
 * overdue_self_clock_backoff_max_ns(), never before the run could reach the quantum. */
static void back_off_clocked(struct look_state *l, uint64_t now_ns, uint64_t to_quantum_ns)
{
    uint64_t q = shim_config.quantum_ns, max = overdue_self_clock_backoff_max_ns();
    if (l->clocked_looks < 32)
        l->clocked_looks++;
    uint64_t interval = l->clocked_looks < 20 ? q << l->clocked_looks : max;
    if (interval > max)
        interval = max;
    if (interval < to_quantum_ns)
        interval = to_quantum_ns;
    schedule(l, now_ns + interval, interval / 8);
}

/* Upper bound of the CPU time at which a run that began at the switch of TSC switch_tsc
 * began (see the header comment). now_tsc was read before now_ns, so the switch's wall
 * time is never underestimated. */
static uint64_t run_start_after_switch(const struct look_state *l, uint64_t switch_tsc,
                                       uint64_t now_tsc, uint64_t now_ns, uint64_t cpu_ns)
{
    uint64_t ago = switch_tsc < now_tsc ? stats_ticks_to_ns(now_tsc - switch_tsc) : 0;
    uint64_t at = ago < now_ns ? now_ns - ago : 0;
    if (at < l->last_look_ns)
        at = l->last_look_ns;
    uint64_t bound = l->last_cpu_ns + (at - l->last_look_ns);
    return bound < cpu_ns ? bound : cpu_ns;
}

void overdue_look(struct thread_record *t)
{
    /* The look's own time, read before the CPU clock, so that for any instant s after
       now_ns, CPU(s) <= cpu + (s - now_ns): what run_start_after_switch relies on. */
    uint64_t now_tsc = stats_tsc();
    uint64_t now_ns = monotonic_ns();
    struct look_state *l = &t->look;
    uint32_t generation = atomic_load(&t->generation);
    if (l->generation != generation) {            /* a record of a thread new to us */
        memset(l, 0, sizeof *l);
        l->generation = generation;
        l->run_reaches_quantum_ns = UINT64_MAX;   /* no run seen yet */
    }
    l->looked_ns = now_ns;
    atomic_store_explicit(&t->look_soon, 0, memory_order_relaxed);
    if (shim_config.chaos) {           /* chaos mode has its own clock (chaos.c) */
        back_off(t, now_ns);
        return;
    }
    if (request_thread_parked(t)) {    /* in a blocking section: its end wakes us */
        if (l->quiet_looks == 0)
            l->quiet_looks = 1;        /* look_due_at: due when backed_off clears */
        schedule(l, now_ns + LOOK_PARKED_NS, LOOK_PARKED_NS / 2);
        return;
    }
    void **slot = t->caml_state_slot;
    void *ds = slot ? *(void *volatile *)slot : NULL;
    if (!ds) {                         /* not running OCaml (or released its domain) */
        l->have_cpu = false;
        l->run_reaches_quantum_ns = UINT64_MAX;
        back_off(t, now_ns);
        return;
    }
    uint64_t switches = atomic_load_explicit(&t->switches, memory_order_acquire);
    uint64_t switch_tsc = atomic_load_explicit(&t->switch_tsc, memory_order_relaxed);
    void *stack = *(void *volatile *)DS(ds, current_stack);
    uint64_t cpu = thread_cpu_ns(t->cpu_clock);
    /* The thread's CPU time since the previous look, an upper bound of what it ran since
       any trip made after that look (self_clocked). */
    uint64_t prev_look_tsc = l->have_cpu ? l->last_look_tsc : 0;
    uint64_t cpu_since_look = l->have_cpu && cpu > l->last_cpu_ns ? cpu - l->last_cpu_ns : UINT64_MAX;

    bool same_run = l->have_cpu && ds == l->ds && switches == l->switches && stack == l->stack;
    bool ran = !l->have_cpu || cpu != l->last_cpu_ns;
    if (!l->have_cpu || ds != l->ds)
        l->run_cpu_start_ns = cpu;
    else if (switches != l->switches)
        l->run_cpu_start_ns = run_start_after_switch(l, switch_tsc, now_tsc, now_ns, cpu);
    else if (stack != l->stack)
        l->run_cpu_start_ns = cpu;
    if (l->run_cpu_start_ns > cpu)     /* a clock that went backwards: never underflow */
        l->run_cpu_start_ns = cpu;
    l->ds = ds;
    l->stack = stack;
    l->switches = switches;
    l->last_cpu_ns = cpu;
    l->last_look_ns = now_ns;
    l->last_look_tsc = now_tsc;
    l->have_cpu = true;
    if (same_run && !ran) {
        back_off(t, now_ns);
        return;
    }
    uint64_t q = shim_config.quantum_ns;
    uint64_t run = cpu - l->run_cpu_start_ns;
    stats_max(&stats_for_domain(*(volatile int *)DS(ds, id))->longest_run_ns, run);
    bool main_fiber = stack == atomic_load_explicit(&t->main_stack, memory_order_relaxed);
    l->run_reaches_quantum_ns = main_fiber ? UINT64_MAX : run < q ? now_ns + (q - run) : now_ns;
    stall_watch_look(t, ds, stack, same_run, main_fiber, cpu);
    if (!(main_fiber && same_run)) {
        l->quiet_looks = 0;
        atomic_store_explicit(&t->backed_off, 0, memory_order_relaxed);
    }
    if (run < q) {
        enum clocking c = main_fiber ? NOT_CLOCKED
                                     : self_clocked(t, switch_tsc, now_tsc, prev_look_tsc,
                                                    cpu_since_look);
        if (c == CLOCKED_RUN) {
            back_off_clocked(l, now_ns, q - run);
            return;
        }
        if (c == CLOCKED_BEFORE) {
            /* Not tripped yet: its own clock gets the quantum and a quarter (by then an
               allocating fiber was preempted and the next run has tripped), a fiber that
               does not allocate is found overdue then. The back-off is kept. */
            schedule(l, now_ns + (q - run) + q / 4, overdue_running_slack_ns());
            return;
        }
        l->clocked_looks = 0;
        schedule(l, now_ns + (q - run), overdue_running_slack_ns());
        return;
    }
    if (!main_fiber &&
        self_clocked(t, switch_tsc, now_tsc, prev_look_tsc, cpu_since_look) == CLOCKED_RUN) {
        /* Past the quantum although it trips. Within a quarter quantum past: its own trip,
           aimed Q/64 past the deadline, is about to end the run (a request would race it,
           for nothing). Further: in C (a major slice, a stub), where neither its trip nor
           a request can land before it returns; the request makes that return call the
           hook at once. Either way the look keeps its back-off, so that a fiber whose time
           in C is long costs no wake per quantum (the run is stall_watch's to report). */
        if (run >= q + q / 4) {
            request_issue(t, ds, stack, switches);
            stall_watch_requested(t, ds, cpu);
        }
        back_off_clocked(l, now_ns, 0);
        return;
    }
    l->clocked_looks = 0;
    if (main_fiber) {
        /* The main fiber is never preempted: look less often, but not so rarely that a
           scheduler it starts runs its first fibers unwatched for long. Every
           MAIN_FIBER_RECHECK-th such look still asks the hook, which decides from the
           stack itself and forgets main_stack if it is wrong: a stack address is not an
           identity (the runtime frees a main stack it grows and may hand the memory to a
           fiber), so the exemption must never be able to stick to a fiber. */
        uint64_t max = backoff_max();
        back_off_to(t, now_ns, 8 * q < max ? 8 * q : max);
        if (l->quiet_looks % MAIN_FIBER_RECHECK == 0)
            request_issue(t, ds, stack, switches);
        return;
    }
    /* The request issued at the last look for this same run was refused (the fiber was in
       a critical extent, held a Mutex.t, ran a callback...): it is still overdue, so retry
       at the old cadence, a jittered quarter to half quantum; else a quantum and the grace,
       which serve the next fiber's request too if this one is preempted. */
    uint64_t refusals = atomic_load_explicit(&t->refusals, memory_order_relaxed);
    bool refused = same_run && refusals != l->refusals_seen;
    l->refusals_seen = refusals;
    request_issue(t, ds, stack, switches);
    stall_watch_requested(t, ds, cpu);
    schedule(l, now_ns + (refused ? refused_retry_after(now_ns) : q + request_grace()),
             overdue_running_slack_ns());
}

void request_issue(struct thread_record *t, void *ds, void *stack, uint64_t switches)
{
    atomic_store(&t->request_switches, switches);
    atomic_store(&t->request_stack, stack);
    if (!atomic_exchange(&t->want, 1))
        atomic_store_explicit(&t->request_tsc, stats_tsc(), memory_order_relaxed);
    runtime_interrupt_post(ds);         /* never over a tick (runtime.h) */
    atomic_store_explicit(DS_ATOMIC(ds, young_limit), UINTPTR_MAX, memory_order_release);
    STAT_INC(stats_for_domain(*(volatile int *)DS(ds, id)), requests);
}

bool request_preempt_current(struct thread_record *t)
{
    void **slot = t->caml_state_slot;
    void *ds = slot ? *(void *volatile *)slot : NULL;
    if (!ds)
        return false;
    uint64_t switches = atomic_load_explicit(&t->switches, memory_order_acquire);
    request_issue(t, ds, *(void *volatile *)DS(ds, current_stack), switches);
    return true;
}

/* ---- hook side (the thread itself) ----------------------------------------------------- */

bool request_still_due(struct thread_record *t, void *ds)
{
    return atomic_load(&t->switches) == atomic_load(&t->request_switches) &&
           (void *)*DS(ds, current_stack) == atomic_load(&t->request_stack);
}

void request_look_soon(struct thread_record *t)
{
    if (!atomic_exchange(&t->look_soon, 1))
        doorbell_ring_within_quantum();
}

void request_note_injection(struct thread_record *t)
{
    if (switch_hook_active())
        return;                       /* the yield's own perform will count the switch */
    atomic_store_explicit(&t->switch_tsc, stats_tsc(), memory_order_relaxed);
    atomic_store_explicit(&t->switches, atomic_load(&t->switches) + 1, memory_order_release);
}
