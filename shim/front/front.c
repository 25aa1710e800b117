/* front: libocpreempt.so, the object LD_PRELOAD names (see front_api.h).
 *
 * Its constructor decides, from what is already in memory, whether this process may have
 * something to preempt, and only then loads the engine (libocpreempt-engine.so: the
 * analysis, libelf, libdw and the rest of the shim) and starts it. Everything else costs a
 * few hash lookups: CI users preload whole builds, and most processes of a build
 * (compilers, shells, test runners) have nothing to preempt.
 *
 * The engine is loaded when the program is an OCaml 5 native executable (its exported
 * runtime symbols say so) and one of these holds:
 *  - OCPREEMPT_YIELD names a yield, or OCPREEMPT_CHAOS asks for chaos mode (the user
 *    asked: the engine says if it cannot);
 *  - the configuration is bad (the engine says so in OCaml 5.3 programs, as before);
 *  - OCPREEMPT_LOG is info or debug (the user wants to know why);
 *  - this is the program `ocpreempt run` started (OCPREEMPT_LAUNCHED is its pid): the
 *    engine says why when it finds nothing;
 *  - a unit of a known scheduler (ocaml_known_yields: Eio, Miou, Picos...) is linked,
 *    per the program's unit list `caml_globals_map`, or that list cannot be read.
 * Otherwise the process cannot be a target: it stays inert and silent (a debug line only).
 * The rule errs towards loading: a false "maybe" costs the analysis, never correctness.
 *
 * The exported pthread_create and pthread_mutex_lock/trylock/unlock are thin forwarders:
 * to libc until the engine is active, to the engine's implementations after. freelocale
 * tells an active engine first: the runtime's caml_shutdown calls it just before freeing
 * all the runtime's memory (shutdown.h).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dynamic_symbols.h"
#include "front_api.h"
#include "log.h"
#include "ocaml_names.h"

static _Atomic(const struct engine_calls *) engine;

/* ---- the decision ----------------------------------------------------------------- */

/* Does the program export the OCaml 5 native runtime (ocaml_binary.c's evidence)? */
static bool exports_ocaml5_runtime(const struct dynamic_symbols *d)
{
    return dynamic_symbols_find(d, "caml_start_program", NULL) &&
           dynamic_symbols_find(d, "caml_frametable", NULL) &&
           (dynamic_symbols_find(d, "caml_runstack", NULL) ||
            dynamic_symbols_find(d, "caml_perform", NULL));
}

/* The bytes of the OCaml string `caml_globals_map` (the marshalled list of linked units
 * the native linker emits for Dynlink), or NULL. */
static const char *unit_list(const struct dynamic_symbols *d, size_t *len)
{
    const uint64_t *s = dynamic_symbols_find(d, "caml_globals_map", NULL);
    if (s == NULL || !dynamic_symbols_readable(d, s - 1, sizeof *s))
        return NULL;
    uint64_t header = s[-1], bytes = (header >> 10) * 8;
    /* The block must lie in the program's mapped data: a doctored header must not make
       us read past it. */
    if ((header & 0xff) != 252 /* String_tag */ || bytes == 0 ||
        !dynamic_symbols_readable(d, s, (size_t)bytes))
        return NULL;
    const char *p = (const char *)s;
    *len = (size_t)(bytes - 1 - (unsigned char)p[bytes - 1]);
    return *len < bytes ? p : NULL;
}

/* May a known scheduler's yield be in the program? True when the unit list names a unit
 * starting with a known path's first component (a substring test: a false "yes" only
 * costs the analysis), or when the list is unreadable. */
static bool may_link_known_scheduler(const struct dynamic_symbols *d, const char **which)
{
    size_t len = 0;
    const char *units = unit_list(d, &len);
    if (units == NULL) {
        *which = "(unit list unreadable)";
        return true;
    }
    for (const char *const *k = ocaml_known_yields; *k; k++) {
        const char *dot = strchr(*k, '.');
        size_t first = dot ? (size_t)(dot - *k) : strlen(*k);
        if (memmem(units, len, *k, first) != NULL) {
            *which = *k;
            return true;
        }
    }
    return false;
}

/* Is this the process `ocpreempt run` exec'd (same pid: exec keeps it)? */
static bool is_launched_program(void)
{
    const char *v = getenv("OCPREEMPT_LAUNCHED");
    char *end;
    if (v == NULL || *v == '\0')
        return false;
    errno = 0;
    long pid = strtol(v, &end, 10);
    return errno == 0 && *end == '\0' && pid == (long)getpid();
}

/* Should the engine look at this process? `why` says why not (for a debug line). */
static bool worth_analysing(const struct ocpreempt_config *cfg, bool config_ok,
                            bool launched, const char **why)
{
    struct dynamic_symbols d;
    const char *which = NULL;
    if (dynamic_symbols_of_program(&d) != 0) {
        *why = "no dynamic symbol table";
        return false;
    }
    if (!exports_ocaml5_runtime(&d)) {
        *why = "not an OCaml 5 native executable (no exported OCaml 5 runtime)";
        return false;
    }
    if (!config_ok || cfg->yield[0] || cfg->chaos || cfg->log >= LOG_INFO || launched)
        return true;
    if (may_link_known_scheduler(&d, &which)) {
        log_debug("a known scheduler may be linked (%s): analysing", which);
        return true;
    }
    *why = "no yield named and no known scheduler linked: nothing to preempt";
    return false;
}

/* ---- libc's functions ------------------------------------------------------------- */

static void *libc_function(void *_Atomic *cache, const char *name)
{
    void *f = atomic_load_explicit(cache, memory_order_relaxed);
    if (f == NULL) {
        f = dlsym(RTLD_NEXT, name);
        atomic_store_explicit(cache, f, memory_order_relaxed);
    }
    return f;
}

static void *_Atomic libc_create, *_Atomic libc_lock, *_Atomic libc_trylock,
    *_Atomic libc_unlock, *_Atomic libc_freelocale;

static pthread_create_fn real_create(void)
{
    return (pthread_create_fn)libc_function(&libc_create, "pthread_create");
}
static pthread_mutex_fn real_lock(void)
{
    return (pthread_mutex_fn)libc_function(&libc_lock, "pthread_mutex_lock");
}
static pthread_mutex_fn real_trylock(void)
{
    return (pthread_mutex_fn)libc_function(&libc_trylock, "pthread_mutex_trylock");
}
static pthread_mutex_fn real_unlock(void)
{
    return (pthread_mutex_fn)libc_function(&libc_unlock, "pthread_mutex_unlock");
}

/* ---- loading the engine ----------------------------------------------------------- */

/* The engine lives next to this object (same directory, in the build tree and installed). */
static void engine_path(char *buf, size_t len)
{
    Dl_info self;
    const char *slash = NULL;
    if (dladdr((void *)engine_path, &self) != 0 && self.dli_fname != NULL)
        slash = strrchr(self.dli_fname, '/');
    if (slash == NULL || (size_t)(slash - self.dli_fname) + 1 + sizeof OCPREEMPT_ENGINE_FILE > len) {
        snprintf(buf, len, "%s", OCPREEMPT_ENGINE_FILE);   /* the loader's search path */
        return;
    }
    snprintf(buf, len, "%.*s/%s", (int)(slash - self.dli_fname), self.dli_fname,
             OCPREEMPT_ENGINE_FILE);
}

static void start_engine(bool launched)
{
    char path[PATH_MAX];
    engine_path(path, sizeof path);
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        log_error("disabled: cannot load the engine: %s", dlerror());
        return;
    }
    engine_start_fn start = (engine_start_fn)dlsym(handle, OCPREEMPT_ENGINE_START);
    if (start == NULL) {
        log_error("disabled: %s has no %s (a broken installation?)", path,
                  OCPREEMPT_ENGINE_START);
        return;
    }
    struct front_context ctx = {
        .abi = OCPREEMPT_ENGINE_ABI,
        .libc = {real_create(), real_lock(), real_trylock(), real_unlock()},
        .launched = launched,
    };
    if (!ctx.libc.pthread_create || !ctx.libc.mutex_lock || !ctx.libc.mutex_trylock ||
        !ctx.libc.mutex_unlock) {
        log_error("disabled: libc's pthread functions not found");
        return;
    }
    /* The engine stays loaded even when inert: it may have registered at-fork or at-exit
       handlers, and unloading buys nothing (the peak is already reached). */
    atomic_store_explicit(&engine, start(&ctx), memory_order_release);
}

__attribute__((constructor)) static void front_init(void)
{
    static struct ocpreempt_config cfg;    /* large: keep it off the stack */
    char config_error[CONFIG_ERR_MAX];
    bool config_ok = config_load(&cfg, config_error, sizeof config_error) == 0;
    log_set_level(cfg.log);               /* valid even when config_load failed */
    if (config_ok && !cfg.enabled)
        return;
    bool launched = is_launched_program();
    const char *why = NULL;
    if (!worth_analysing(&cfg, config_ok, launched, &why)) {
        log_debug("inert: %s", why);
        return;
    }
    start_engine(launched);
}

/* ---- the interposers -------------------------------------------------------------- */

static const struct engine_calls *active_engine(void)
{
    return atomic_load_explicit(&engine, memory_order_acquire);
}

#define CALLER() ((uintptr_t)__builtin_return_address(0))

__attribute__((visibility("default")))
int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                   void *arg)
{
    const struct engine_calls *e = active_engine();
    if (e)
        return e->pthread_create(thread, attr, start, arg);
    pthread_create_fn real = real_create();
    return real ? real(thread, attr, start, arg) : EAGAIN;
}

enum mutex_call { MUTEX_LOCK, MUTEX_TRYLOCK, MUTEX_UNLOCK };

/* The three mutex forwarders in one: the engine's call once it is active, else libc's. */
static int forward_mutex(enum mutex_call which, pthread_mutex_t *m, uintptr_t caller)
{
    const struct engine_calls *e = active_engine();
    if (e) {
        int (*call)(pthread_mutex_t *, uintptr_t) = which == MUTEX_LOCK ? e->mutex_lock
                                                    : which == MUTEX_TRYLOCK ? e->mutex_trylock
                                                    : e->mutex_unlock;
        return call(m, caller);
    }
    pthread_mutex_fn real = which == MUTEX_LOCK ? real_lock()
                            : which == MUTEX_TRYLOCK ? real_trylock()
                            : real_unlock();
    return real ? real(m) : EINVAL;
}

__attribute__((visibility("default"))) int pthread_mutex_lock(pthread_mutex_t *m)
{
    return forward_mutex(MUTEX_LOCK, m, CALLER());
}

__attribute__((visibility("default"))) int pthread_mutex_trylock(pthread_mutex_t *m)
{
    return forward_mutex(MUTEX_TRYLOCK, m, CALLER());
}

__attribute__((visibility("default"))) int pthread_mutex_unlock(pthread_mutex_t *m)
{
    return forward_mutex(MUTEX_UNLOCK, m, CALLER());
}

/* caml_shutdown (OCAMLRUNPARAM=c=1, or a program embedding OCaml) frees the locale just
 * before every runtime allocation: the engine must be quiet by then (shutdown.h). */
__attribute__((visibility("default"))) void freelocale(locale_t loc)
{
    uintptr_t caller = CALLER();
    const struct engine_calls *e = active_engine();
    if (e)
        e->before_freelocale(caller);
    freelocale_fn real = (freelocale_fn)libc_function(&libc_freelocale, "freelocale");
    if (real)
        real(loc);
}
