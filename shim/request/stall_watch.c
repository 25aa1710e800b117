/* stall_watch: see stall_watch.h. */
#define _GNU_SOURCE
#include "stall_watch.h"

#include <stdatomic.h>
#include <sys/uio.h>
#include <unistd.h>

#include "c_call_table.h"
#include "runtime.h"
#include "shim_state.h"
#include "stall_stats.h"

static unsigned long domain_preemptions(void *ds)
{
    return atomic_load_explicit(
        &stats_for_domain(*(volatile int *)DS(ds, id))->counter[STAT_preemptions],
        memory_order_relaxed);
}

/* One word of this process's memory, or false if it is not mapped (any more). */
static bool peek(uintptr_t addr, uintptr_t *out)
{
    struct iovec local = { out, sizeof *out }, remote = { (void *)addr, sizeof *out };
    return addr != 0 &&
           process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)sizeof *out;
}

/* The stall_stats slot of the C code domain ds is in (0: unnamed); *caller the return
 * address into OCaml code that entered it. */
static size_t where_in_c(void *ds, void *stack, uintptr_t *caller)
{
    uintptr_t link = *(volatile uintptr_t *)DS(ds, c_stack), last_entry, link_sp, sp, ret;
    if (!link || !peek(link - sizeof(uintptr_t), &last_entry))
        return 0;
    if (c_call_table_is_runtime_c_call(last_entry)) {
        uintptr_t function;
        if (!peek(link + ocaml_rt.layout.c_stack_link.sp, &link_sp) ||
            !peek((uintptr_t)stack + ocaml_rt.layout.stack_info.sp, &sp) || sp != link_sp ||
            !peek(sp, &ret) || !(function = c_call_table_external(ret)))
            return 0;
        *caller = ret;
        return stall_function_slot(function, STALL_EXTERNAL);
    }
    uintptr_t function = c_call_table_noalloc(last_entry);
    if (!function)
        return 0;
    *caller = last_entry;
    return stall_function_slot(function, STALL_NOALLOC);
}

void stall_watch_look(struct thread_record *t, void *ds, void *stack, bool same_run,
                      bool main_fiber, uint64_t cpu)
{
    struct look_state *l = &t->look;
    bool requested = l->stall_requested;
    l->stall_requested = false;
    if (!shim_config.stats || main_fiber || !same_run) {
        l->stall_stretch_ns = 0;      /* another run: every stretch ends */
        l->refused_streak = false;
        return;
    }
    if (!requested || cpu < l->stall_mark_cpu_ns)
        return;                       /* no request since the last look: no news */
    uint64_t ns = cpu - l->stall_mark_cpu_ns, c_stretch = l->stall_stretch_ns;
    l->stall_stretch_ns = 0;
    uint64_t refusals = atomic_load_explicit(&t->refusals, memory_order_acquire);
    if (refusals != l->refusals_seen) {          /* the hook ran, and refused: why */
        int reason = atomic_load_explicit(&t->last_refusal, memory_order_relaxed);
        if (reason < 0 || reason >= STATS_COUNTER_COUNT) {
            l->refused_streak = false;
            return;
        }
        if (!l->refused_streak || reason != l->refused_reason) {
            l->refused_streak = true;            /* counted from the request refused */
            l->refused_reason = reason;
            l->refused_start_cpu_ns = l->stall_mark_cpu_ns;
        }
        stats_max(&stall_refused_longest_ns[reason], cpu - l->refused_start_cpu_ns);
        return;
    }
    if (!atomic_load(&t->want)) {
        /* Taken, neither refused nor pending. Served if the domain was preempted since
           (a lone fiber resumed at once is the same run); else the hook is between taking
           it and counting its refusal: no news yet. */
        if (domain_preemptions(ds) != l->stall_preemptions_seen)
            l->refused_streak = false;
        return;
    }
    /* Pending: no poll reached since the request. Not an end to a streak of refusals (a
       thread descheduled right after the request looks the same), only no news of it. */
    uintptr_t caller = 0;
    size_t seen = where_in_c(ds, stack, &caller);
    /* The interval's CPU time is charged to a C function only if the domain was in it at
       both ends (seen at the request, or at the previous look): a function entered
       meanwhile after another (a noalloc spin, then a noalloc sleep) is not charged the
       other's CPU (adversary F8); the interval goes to the unnamed line instead. */
    size_t slot = seen == l->stall_seen_slot ? seen : 0;
    l->stall_seen_slot = seen;
    bool new_stretch = c_stretch == 0 || slot != l->stall_slot;
    uint64_t stretch = (new_stretch ? 0 : c_stretch) + ns;
    stall_record(slot, ns, stretch, new_stretch, caller);
    l->stall_slot = slot;
    l->stall_stretch_ns = stretch ? stretch : 1;
}

void stall_watch_requested(struct thread_record *t, void *ds, uint64_t cpu)
{
    t->look.stall_requested = true;
    t->look.stall_mark_cpu_ns = cpu;
    t->look.stall_preemptions_seen = domain_preemptions(ds);
    uintptr_t caller = 0;
    t->look.stall_seen_slot =
        shim_config.stats ? where_in_c(ds, *(void *volatile *)DS(ds, current_stack), &caller) : 0;
}
