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
                      bool main_fiber, uint64_t cpu, uint64_t run)
{
    struct look_state *l = &t->look;
    bool requested = l->stall_requested;
    l->stall_requested = false;
    if (!shim_config.stats || main_fiber || !same_run || !requested) {
        l->stall_stretch_ns = 0;
        return;
    }
    uint64_t refusals = atomic_load_explicit(&t->refusals, memory_order_acquire);
    if (refusals != l->refusals_seen) {          /* the hook ran, and refused: why */
        int reason = atomic_load_explicit(&t->last_refusal, memory_order_relaxed);
        if (reason >= 0 && reason < STATS_COUNTER_COUNT)
            stats_max(&stall_refused_longest_ns[reason], run);
        l->stall_stretch_ns = 0;
        return;
    }
    if (!atomic_load(&t->want) || cpu < l->stall_mark_cpu_ns) {
        l->stall_stretch_ns = 0;     /* served otherwise (dropped as switched, chaos) */
        return;
    }
    uintptr_t caller = 0;
    size_t slot = where_in_c(ds, stack, &caller);
    uint64_t ns = cpu - l->stall_mark_cpu_ns;
    bool new_stretch = l->stall_stretch_ns == 0 || slot != l->stall_slot;
    uint64_t stretch = (new_stretch ? 0 : l->stall_stretch_ns) + ns;
    stall_record(slot, ns, stretch, new_stretch, caller);
    l->stall_slot = slot;
    l->stall_stretch_ns = stretch ? stretch : 1;
}

void stall_watch_requested(struct thread_record *t, uint64_t cpu)
{
    t->look.stall_requested = true;
    t->look.stall_mark_cpu_ns = cpu;
}
