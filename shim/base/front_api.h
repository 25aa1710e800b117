/* front_api: the interface between the two objects of the shim.
 *
 * libocpreempt.so (front.c, the object LD_PRELOAD names) is small and needs only libc: it
 * reads the configuration, decides from the program's in-memory dynamic symbols whether
 * there can be anything to preempt, and only then dlopens libocpreempt-engine.so (every
 * other shim/ stage, the analysis library, libelf and libdw). A process with nothing to do
 * never maps the engine.
 *
 * The front owns the exported interposers (pthread_create, pthread_mutex_lock/trylock/
 * unlock): they are thin forwarders. Before the engine is active they call libc; after,
 * the engine's implementations, whose logic stays in thread_registry.c and mutex_guard.c.
 * Its freelocale interposer always calls libc's, after telling an active engine (the
 * runtime's shutdown, shutdown.h).
 * Invariants:
 *  - the front resolves libc's functions (RTLD_NEXT from the preloaded object, so other
 *    preloaded libraries keep their place in the chain) and hands them to the engine,
 *    which never looks them up itself;
 *  - the engine's calls are published (release) only once the engine is active, and are
 *    never withdrawn: an engine that disables itself later still forwards correctly;
 *  - OCPREEMPT_ENGINE_ABI changes whenever either struct changes; a mismatched engine is
 *    refused with one line (an installation mixing two builds).
 */
#ifndef OCPREEMPT_FRONT_API_H
#define OCPREEMPT_FRONT_API_H

#include <locale.h>
#include <pthread.h>
#include <stdint.h>

#define OCPREEMPT_ENGINE_ABI 2
#define OCPREEMPT_ENGINE_FILE "libocpreempt-engine.so"
#define OCPREEMPT_ENGINE_START "ocpreempt_engine_start"

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                 void *);
typedef int (*pthread_mutex_fn)(pthread_mutex_t *);
typedef void (*freelocale_fn)(locale_t);

/* libc's functions, as the front found them. */
struct front_libc {
    pthread_create_fn pthread_create;
    pthread_mutex_fn mutex_lock, mutex_trylock, mutex_unlock;
};

/* What the front knows about this start, for the engine's messages. */
struct front_context {
    int abi;                       /* OCPREEMPT_ENGINE_ABI of the front */
    struct front_libc libc;
    int launched;                  /* this process is the program `ocpreempt run` started:
                                      say why when there is nothing to preempt */
};

/* The engine's implementations of the interposed calls. `caller` is the return address
 * of the interposed call (the OCaml Mutex primitives are recognised by it). */
struct engine_calls {
    pthread_create_fn pthread_create;
    int (*mutex_lock)(pthread_mutex_t *m, uintptr_t caller);
    int (*mutex_trylock)(pthread_mutex_t *m, uintptr_t caller);
    int (*mutex_unlock)(pthread_mutex_t *m, uintptr_t caller);
    /* Called before libc's freelocale: from the runtime's caml_free_locale it means
       caml_shutdown is about to free the runtime's memory (shutdown.h). */
    void (*before_freelocale)(uintptr_t caller);
};

/* Exported by the engine under OCPREEMPT_ENGINE_START. Runs the engine's start-up (what
 * the shim's constructor did when it was one object). Returns the calls to forward to
 * when the engine became active, NULL when it stayed inert (it said why, if it had to). */
typedef const struct engine_calls *(*engine_start_fn)(const struct front_context *ctx);

#endif
