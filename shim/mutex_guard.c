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
#include <stdint.h>

#include "runtime.h"
#include "shim_state.h"
#include "thread_registry.h"

typedef int (*mutex_fn)(pthread_mutex_t *);

static mutex_fn real_fn(const char *name, mutex_fn *cache)
{
    if (!*cache)
        *cache = (mutex_fn)dlsym(RTLD_NEXT, name);
    return *cache;
}

static int called_from(uintptr_t ra, uintptr_t start, uintptr_t end)
{
    return ra >= start && ra < end;
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

__attribute__((visibility("default"))) int pthread_mutex_lock(pthread_mutex_t *m)
{
    static mutex_fn real;
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    if (!real_fn("pthread_mutex_lock", &real))
        return EINVAL;
    int rc = real(m);
    if (rc == 0 && shim_active() &&
        called_from(ra, ocaml_rt.ml_mutex_lock, ocaml_rt.ml_mutex_lock_end))
        adjust_held(+1);
    return rc;
}

__attribute__((visibility("default"))) int pthread_mutex_trylock(pthread_mutex_t *m)
{
    static mutex_fn real;
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    if (!real_fn("pthread_mutex_trylock", &real))
        return EINVAL;
    int rc = real(m);
    if (rc == 0 && shim_active() &&
        (called_from(ra, ocaml_rt.ml_mutex_lock, ocaml_rt.ml_mutex_lock_end) ||
         called_from(ra, ocaml_rt.ml_mutex_trylock, ocaml_rt.ml_mutex_trylock_end)))
        adjust_held(+1);
    return rc;
}

__attribute__((visibility("default"))) int pthread_mutex_unlock(pthread_mutex_t *m)
{
    static mutex_fn real;
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    if (!real_fn("pthread_mutex_unlock", &real))
        return EINVAL;
    int rc = real(m);
    if (rc == 0 && shim_active() &&
        called_from(ra, ocaml_rt.ml_mutex_unlock, ocaml_rt.ml_mutex_unlock_end))
        adjust_held(-1);
    return rc;
}
