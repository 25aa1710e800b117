/* shutdown: see shutdown.h. Runs on the exiting thread (an atexit handler, or inside
 * caml_shutdown on the domain that called it), never in signal context. */
#define _GNU_SOURCE
#include "shutdown.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "chaos.h"
#include "fiber_accounts.h"
#include "log.h"
#include "request.h"
#include "runtime.h"
#include "stats.h"
#include "stats_report.h"
#include "thread_registry.h"
#include "trace.h"

/* A hook's body takes microseconds; a thread still inside after this was stopped. */
#define HOOK_LEAVE_WAIT_NS 200000000ull

static _Atomic bool quiesced;

/* Returns once no other thread is inside the hook's body, or the wait ran out. */
static void wait_for_hooks_to_leave(void)
{
    const struct thread_record *self = thread_self();
    uint64_t give_up_ns = monotonic_ns() + HOOK_LEAVE_WAIT_NS;
    int extent = atomic_load(&thread_registry_extent);
    for (int i = 0; i < extent; i++) {
        struct thread_record *r = &thread_registry[i];
        while (r != self && atomic_load(&r->in_hook)) {
            if (monotonic_ns() > give_up_ns) {
                log_debug("exit: thread %d is still inside the interrupt hook after %llu ms "
                          "(stopped?); exiting anyway", (int)r->tid,
                          HOOK_LEAVE_WAIT_NS / 1000000);
                return;
            }
            sched_yield();
        }
    }
}

/* Stops requests, waits out the hooks, then writes the reports (they read, they do not
 * compute: stats_report.h, hog_sites.h). Once, whichever end comes first. */
static void quiesce_and_report(void)
{
    if (atomic_exchange(&quiesced, true))
        return;
    request_stop();                /* shim_enabled false, and no monitor pass in flight */
    stats_note_monitor_cpu_ns(request_monitor_cpu_ns());   /* its last pass is done */
    wait_for_hooks_to_leave();
    chaos_report();
    fiber_accounts_finish();       /* the logs' last entries, the runs still open */
    stats_report();
    trace_close();
}

void shutdown_at_exit(void)
{
    quiesce_and_report();
}

void shutdown_before_freelocale(uintptr_t caller)
{
    if (caller < ocaml_rt.notice_caller || caller >= ocaml_rt.notice_caller_end)
        return;
    log_debug("caml_shutdown: stopping preemption before the runtime frees its memory");
    quiesce_and_report();
}
