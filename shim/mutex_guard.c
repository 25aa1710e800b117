/* mutex_guard: knows when the thread holds an OCaml Mutex.t, so a fiber is never
 * preempted inside a critical section (another fiber of the same domain blocking on the
 * mutex would deadlock the domain; OCaml 5's error-checking mutexes raise instead).
 *
 * pthread_mutex_lock/trylock/unlock are interposed (the runtime reaches them through the
 * PLT). Only calls made from the OCaml Mutex primitives (caml_ml_mutex_lock, _try_lock,
 * _unlock, recognised by their return address) are counted: the runtime's own locks (the
 * domain lock is held whenever OCaml code runs) must not count. The count is per thread and
 * touched only by its owner. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime.h"
#include "shim_state.h"
#include "thread_registry.h"

typedef int (*mutex_fn)(pthread_mutex_t *);

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

/* Calls the real `name` and, when it succeeded and was called from one of `callers`,
 * moves this thread's count by `delta`. */
static int counted_call(const char *name, mutex_fn *real, pthread_mutex_t *m, uintptr_t ra,
                        const struct code_range *callers, int delta)
{
    if (!*real)
        *real = (mutex_fn)dlsym(RTLD_NEXT, name);
    if (!*real)
        return EINVAL;
    int rc = (*real)(m);
    if (rc == 0 && shim_active() && called_from(ra, callers))
        adjust_held(delta);
    return rc;
}

#define RETURN_ADDRESS() ((uintptr_t)__builtin_return_address(0))

__attribute__((visibility("default"))) int pthread_mutex_lock(pthread_mutex_t *m)
{
    static mutex_fn real;
    return counted_call("pthread_mutex_lock", &real, m, RETURN_ADDRESS(), lock_callers, +1);
}

__attribute__((visibility("default"))) int pthread_mutex_trylock(pthread_mutex_t *m)
{
    static mutex_fn real;
    return counted_call("pthread_mutex_trylock", &real, m, RETURN_ADDRESS(), lock_callers, +1);
}

__attribute__((visibility("default"))) int pthread_mutex_unlock(pthread_mutex_t *m)
{
    static mutex_fn real;
    return counted_call("pthread_mutex_unlock", &real, m, RETURN_ADDRESS(), unlock_callers, -1);
}
