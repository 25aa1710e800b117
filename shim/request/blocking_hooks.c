/* blocking_hooks: the runtime's enter/leave blocking-section hooks, which tell the monitor
 * which quiet threads it may park and wake it when one runs again.
 *
 * A thread in a blocking section (a system call, a C stub that released the runtime) runs
 * no OCaml until it leaves, and leaving runs our leave hook, which wakes the monitor if it
 * backed off on the thread: so the monitor *parks* such a thread (overdue.c) and looks at it
 * only every LOOK_PARKED_NS, a safety net. The enter hook marks the record with the hooks'
 * epoch (base/runtime_hooks.h); the epoch changes whenever someone replaced our hooks
 * (systhreads' initialisation does, without chaining), so a mark made before a replacement,
 * whose leave may have bypassed us, is never trusted. The enter hook marks only while our
 * leave hook is the installed one. Re-chaining happens at the first pthread_mutex_* call
 * after a replacement (inject/mutex_guard.c; systhreads' initialisation is followed by one
 * at once), and also from the pthread_create wrapper and each pass: a thread that blocks
 * right after systhreads initialises is parked like any other.
 * Parking against leaving (seq_cst): the monitor sets backed_off, then re-reads the mark;
 * the thread clears the mark, then reads backed_off: either the monitor sees the thread
 * gone, or the thread sees it must wake the monitor.
 */
#include <stdatomic.h>

#include "doorbell.h"
#include "request.h"
#include "runtime_hooks.h"
#include "stats.h"

void request_thread_resumed(struct thread_record *t)
{
    if (!t || !atomic_load(&t->backed_off))
        return;
    atomic_store_explicit(&t->backed_off, 0, memory_order_relaxed);
    doorbell_ring_within_quantum();
}

static void enter_blocking_hook(void)
{
    if (!runtime_hook_call_previous(RUNTIME_HOOK_ENTER_BLOCKING))
        return;                 /* systhreads': releases the runtime lock */
    struct thread_record *t = thread_self();
    thread_note_runs_ocaml(t);      /* only a thread holding a domain enters a section */
    if (t)                      /* not the fiber's run (inject/self_clock.c) */
        t->away_since_tsc = stats_tsc();
    if (t && runtime_hook_is_ours(RUNTIME_HOOK_LEAVE_BLOCKING))
        atomic_store_explicit(&t->blocking_epoch, runtime_hooks_blocking_epoch(),
                              memory_order_relaxed);
}

static void leave_blocking_hook(void)
{
    if (!runtime_hook_call_previous(RUNTIME_HOOK_LEAVE_BLOCKING))
        return;                 /* systhreads': takes the runtime lock back first */
    struct thread_record *t = thread_self();
    if (t) {
        atomic_store(&t->blocking_epoch, 0);
        if (t->away_since_tsc != 0)
            t->away_ticks += stats_tsc() - t->away_since_tsc;
        t->away_since_tsc = 0;
    }
    thread_note_runs_ocaml(t);
    request_thread_resumed(t);
}

bool request_thread_parked(struct thread_record *t)
{
    uint32_t mark = atomic_load_explicit(&t->blocking_epoch, memory_order_relaxed);
    if (mark == 0 || mark != runtime_hooks_blocking_epoch())
        return false;
    atomic_store(&t->backed_off, 1);
    return atomic_load(&t->blocking_epoch) == mark;
}

void request_install_blocking_hooks(void)
{
    runtime_hooks_install_blocking(enter_blocking_hook, leave_blocking_hook);
}
