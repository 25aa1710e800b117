/* mutex_guard: knows when the thread holds an OCaml Mutex.t, so a fiber is never
 * preempted inside a critical section (another fiber of the same domain blocking on the
 * mutex would deadlock the domain; OCaml 5's error-checking mutexes raise instead).
 *
 * pthread_mutex_lock/trylock/unlock are interposed (the runtime reaches them through the
 * PLT): the front's exported functions forward here with their return address. Only calls made from the OCaml Mutex primitives (caml_ml_mutex_lock, _try_lock,
 * _unlock, recognised by their return address) are counted: the runtime's own locks (the
 * domain lock is held whenever OCaml code runs) must not count. The count is per thread and
 * touched only by its owner. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mutex_guard.h"

#include "chaos.h"
#include "runtime.h"
#include "runtime_hooks.h"
#include "shim_state.h"
#include "thread_registry.h"

/* The OCaml primitives whose pthread calls move the count, by return address. */
struct code_range { const uintptr_t *start, *end; };
static const struct code_range lock_callers[] = {
    { &ocaml_rt.ml_mutex_lock, &ocaml_rt.ml_mutex_lock_end },
    { &ocaml_rt.ml_mutex_trylock, &ocaml_rt.ml_mutex_trylock_end },
    { NULL, NULL },
};
static const struct code_range unlock_callers[] = {
    { &ocaml_rt.ml_mutex_unlock, &ocaml_rt.ml_mutex_unlock_end },
    { NULL, NULL },
};

static bool called_from(uintptr_t ra, const struct code_range *ranges)
{
    for (const struct code_range *r = ranges; r->start; r++)
        if (ra >= *r->start && ra < *r->end)
            return true;
    return false;
}

static void adjust_held(int delta)
{
    struct thread_record *t = thread_self();
    if (!t)
        return;
    t->ocaml_mutexes_held += delta;
    if (t->ocaml_mutexes_held < 0)
        t->ocaml_mutexes_held = 0;
}

/* Calls libc's `real` and, when it succeeded and was called from one of `callers`, moves
 * this thread's count by `delta`. */
static int counted_call(pthread_mutex_fn real, pthread_mutex_t *m, uintptr_t ra,
                        const struct code_range *callers, int delta)
{
    int rc = real(m);
    if (!shim_active())
        return rc;
    if (rc == 0 && called_from(ra, callers))
        adjust_held(delta);
    /* systhreads' initialisation replaces the runtime hooks without chaining ours, and the
       runtime takes a lock right after (Thread registers "Thread.at_shutdown"): chain ours
       again now, before any thread can enter a blocking section unseen (a few loads when
       nothing was replaced: runtime_hooks.h). */
    runtime_hooks_rechain();
    /* The runtime takes and releases locks right after creating a domain, at the same
       point of every run: chaos mode's deterministic foothold (chaos.h). */
    chaos_arm_self();
    return rc;
}

int mutex_guard_lock(pthread_mutex_t *m, uintptr_t caller)
{
    return counted_call(engine_libc.mutex_lock, m, caller, lock_callers, +1);
}

int mutex_guard_trylock(pthread_mutex_t *m, uintptr_t caller)
{
    return counted_call(engine_libc.mutex_trylock, m, caller, lock_callers, +1);
}

int mutex_guard_unlock(pthread_mutex_t *m, uintptr_t caller)
{
    return counted_call(engine_libc.mutex_unlock, m, caller, unlock_callers, -1);
}
