/* shim_main: start-up and shut-down of the engine (libocpreempt-engine.so).
 *
 * The front (front.c, libocpreempt.so) calls ocpreempt_engine_start from its constructor,
 * after the executable is relocated and before main(), i.e. before the OCaml runtime
 * initialises, and only for processes that may have something to preempt (front_api.h).
 * It decides once whether this process is ours:
 *  - not an OCaml 5 native executable (a shell, an exec'd child, OCaml 4, bytecode): stay
 *    inert and silent (a debug line only if OCPREEMPT_LOG=debug);
 *  - an OCaml 5 release without a runtime profile (5.1, 5.4, +dev; analysis/
 *    runtime_profile.h), or one that fails its profile's checks: one line (the front
 *    started the engine, so the user asked), then inert;
 *  - nothing to preempt (no yield named, none detected): inert, silent at the default log
 *    level; one line if this is the program `ocpreempt run` started (the user asked);
 *  - an OCaml 5 executable we cannot handle as asked (bad configuration, unknown layout,
 *    missing symbols, a named yield not found): one line on stderr, then inert (fail open);
 *  - otherwise: bind the runtime, build the safe-point table, install the interrupt hook,
 *    register the main thread and start the request path.
 * Nothing here runs OCaml code; the first OCaml-context work happens in the hook.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_cache.h"
#include "c_call_table.h"
#include "cache_store.h"
#include "chaos.h"
#include "clock.h"
#include "elf_image.h"
#include "hijack.h"
#include "fiber_accounts.h"
#include "fiber_log.h"
#include "fiber_report.h"
#include "hog_sites.h"
#include "inline_frames.h"
#include "landing.h"
#include "log.h"
#include "mutex_guard.h"
#include "request.h"
#include "runtime.h"
#include "shim_state.h"
#include "shutdown.h"
#include "site_table.h"
#include "stats.h"
#include "stats_report.h"
#include "switch_hook.h"
#include "thread_registry.h"
#include "trace.h"
#include "yield_report.h"
#include "yield_target.h"

static struct elf_image *self_image;       /* kept open: symbol names for stats/trace */
static struct exe_memory self_memory;      /* the executable as mapped (analysis cache) */
static struct cache_view cached;           /* the cache file's records, on a hit */

/* The yield to call: OCPREEMPT_YIELD, else a known scheduler's detected without doubt; the
 * rule is yield_report_choice, the same the probe's verdict uses. 0 with the target
 * prepared; 1 nothing requested and no known scheduler (nothing to preempt; `why` says so
 * and suggests a toplevel `yield` it found, which is never called unasked); -1 with why. */
static int choose_yield(char *why, size_t why_len)
{
    static struct yield_report found;      /* large: keep it off the stack */
    yield_report_fill(self_image, shim_config.yield[0] ? shim_config.yield : NULL, &found);
    const char *path;
    const struct yield_candidate *c = yield_report_choice(&found, &path, why, why_len);
    if (c == NULL && yield_report_nothing_known(&found))
        return 1;
    if (c == NULL)
        return -1;
    return yield_target_prepare(c, path, why, why_len);
}

/* This thread's CPU time: the start-up's cost, for the debug log (the benchmark measures the
 * process's). */
static uint64_t thread_cpu_now_ns(void)
{
    struct timespec ts;
    return clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 ? timespec_ns(&ts) : 0;
}

/* What binding the runtime says, from the analysis or from the cache alike. */
static void report_binding(void)
{
    log_debug("shutdown notice: %s", ocaml_rt.shutdown_notice.why);
    if (ocaml_rt.profile.match != PROFILE_EXACT)
        log_warn("OCaml %s runs on the OCaml %s runtime profile (%s): its DWARF and code "
                 "passed every check of that profile", ocaml_rt.info.version,
                 ocaml_rt.profile.profile->series,
                 ocaml_rt.profile.match == PROFILE_ASSUMED ? "assumed: OCPREEMPT_ASSUME_RUNTIME"
                                                           : "a patch release of the series");
}

/* Is this an OCaml 5 native executable of a profiled release we can bind to? 1 not ours
 * (inert), 0 bound, RELEASE_REFUSED its release has no profile, -1 ours but unusable (why
 * set). Independent of the configuration. */
#define RELEASE_REFUSED 2
static int identify(char *why, size_t why_len)
{
    struct analysis_error err;
    if (elf_image_open("/proc/self/exe", &self_image, &err) != 0) {
        /* The front found the OCaml 5 runtime in the program's dynamic symbols: this is a
         * target, only unreadable (no /proc, a hardened one): said where the user asked. */
        snprintf(why, why_len, "cannot read the program's own executable: %s (is /proc "
                 "mounted?)", err.msg);
        return -1;
    }
    int rc = runtime_bind(self_image, shim_config.assume_runtime, why, why_len);
    if (rc != 0) {
        if (rc == 1)
            log_debug("inert: %s", why);
        return rc;
    }
    if (ocaml_rt.info.frame_pointers) {
        snprintf(why, why_len, "runtimes built with frame pointers are not supported yet");
        return -1;
    }
    report_binding();
    return 0;
}

/* Per-fiber accounting (issue 19), with stats or a trace: the threads' logs (before the
 * main thread registers), the accounts' trace records, the names. Best effort: without
 * memory for the logs, the stats have no per-fiber section and say nothing of it. */
#define CHROME_TRACE_RECORDS (1u << 20)
static bool chrome_trace(void)
{
    return shim_config.trace_path[0] && shim_config.trace_format == TRACE_CHROME;
}

static void prepare_fiber_accounting(void)
{
    bool chrome = chrome_trace();
    if (fiber_log_prepare(THREAD_REGISTRY_MAX) != 0 ||
        fiber_accounts_prepare(chrome ? CHROME_TRACE_RECORDS : 0) != 0) {
        log_warn("per-fiber accounting is off: no memory for its logs");
        return;
    }
    fiber_report_prepare(self_image);
}

/* Names for the stats and the trace now, from the analysis or the cache alike: the exit
 * path must not parse (hog_sites.h). */
static void prepare_reports(void)
{
    if (shim_config.stats || shim_config.trace_path[0])
        hog_sites_prepare(self_image, shim_config.stats || chrome_trace());
    if (shim_config.stats || chrome_trace())
        prepare_fiber_accounting();
    if (shim_config.stats)
        stats_prepare();
}

/* Everything that depends on the configuration. 0, 1 nothing to preempt, or -1; why set
 * unless 0. */
static int prepare(char *why, size_t why_len)
{
    int rc = choose_yield(why, why_len);
    if (rc != 0)
        return rc;
    /* the extents first: the site table refuses the sites inlined from them; the C calls
       before it: its walk over the descriptors lists them */
    c_call_table_prepare(self_image);
    if (landing_prepare(self_image, why, why_len) != 0 ||
        site_table_build(self_image, landing_extents(), why, why_len) != 0 ||
        trace_open(why, why_len) != 0)
        return -1;
    prepare_reports();
    return 0;
}

/* The analysis from the cache (cache_store.h): identify + prepare's tables restored. The
 * image is opened only where stats or a trace will name sites (then it is the analysis's
 * own symbol index and line table). True on a hit; false leaves the status saying why. */
static bool start_from_cache(bool *cache_open)
{
    char why[256];
    *cache_open = cache_store_open(&shim_config) == 0;
    if (!*cache_open)
        return false;
    if (exe_memory_load(&self_memory, NULL) != 0) {
        cache_store_refused("the program's headers are not mapped");
        return false;
    }
    if (cache_store_read(&cached) != 0)
        return false;
    if (analysis_cache_restore(&cached, &self_memory, why, sizeof why) != 0) {
        cache_store_refused(why);
        return false;
    }
    cache_store_hit();
    report_binding();
    return true;
}

/* prepare's remainder after a hit: the trace, and the names stats and the trace read. */
static int prepare_cached(char *why, size_t why_len)
{
    if (trace_open(why, why_len) != 0)
        return -1;
    if (shim_config.stats || shim_config.trace_path[0]) {
        struct analysis_error err;
        if (elf_image_open("/proc/self/exe", &self_image, &err) != 0) {
            snprintf(why, why_len, "cannot read the program's own executable: %s", err.msg);
            return -1;
        }
        site_table_attach_image(self_image);
        if (shim_config.stats) {
            c_call_table_prepare(self_image);
            site_table_note_c_calls(self_image);
        }
    }
    prepare_reports();
    return 0;
}

/* Settings that the user set but that change nothing in this combination: said once, so
 * that nobody waits for a file or a behaviour that will not come. */
static void report_settings_without_effect(void)
{
    if (shim_config.trace_format == TRACE_CHROME && !shim_config.trace_path[0])
        log_warn("OCPREEMPT_TRACE_FORMAT=chrome without OCPREEMPT_TRACE: no trace is written "
                 "(set OCPREEMPT_TRACE=FILE)");
    if (shim_config.self_clock && chaos_enabled())
        log_warn("OCPREEMPT_SELF_CLOCK=1 has no effect in chaos mode (OCPREEMPT_CHAOS): chaos "
                 "mode owns young_limit");
}

static const struct engine_calls forwarded_calls = {
    thread_registry_pthread_create, mutex_guard_lock, mutex_guard_trylock, mutex_guard_unlock,
    shutdown_before_freelocale,
};

/* Nothing to preempt: silent, unless this is the program the user started with
 * `ocpreempt run` (then one line: the launcher's promise, docs/launcher.md). */
static void report_nothing_to_do(const char *why, bool launched)
{
    if (launched)
        log_warn("nothing to preempt in this program: %s", why);
    else
        log_info("inactive: %s", why);
}

/* The engine's start (front_api.h). Returns the calls the front forwards to when the
 * engine is active, NULL when it stays inert. */
__attribute__((visibility("default")))
const struct engine_calls *ocpreempt_engine_start(const struct front_context *ctx)
{
    char why[1024] = "";
    char config_error[512] = "";
    if (ctx->abi != OCPREEMPT_ENGINE_ABI) {
        log_error("disabled: libocpreempt.so and %s are from different builds",
                  OCPREEMPT_ENGINE_FILE);
        return NULL;
    }
    engine_libc = ctx->libc;
    stats_start();
    int config_rc = config_load(&shim_config, config_error, sizeof config_error);
    log_set_level(shim_config.log);      /* valid even when config_load failed */
    if (config_rc == 0 && !shim_config.enabled)
        return NULL;
    /* A file of this program's analysis, for this engine and configuration, replaces
       identify and prepare (only an active start is ever stored). */
    bool cache_open = false;
    uint64_t started = thread_cpu_now_ns();
    bool warm = config_rc == 0 && start_from_cache(&cache_open);
    /* Whose process is this? A shell or an exec'd non-OCaml child stays silent even with
       a configuration it would reject. */
    int rc = warm ? 0 : identify(why, sizeof why);
    if (rc == 1)
        return NULL;
    if (rc == RELEASE_REFUSED) {
        /* The front started the engine because the user asked for preemption here (or
           for info): say why there is none. A bad configuration alone is no such ask. */
        if (config_rc != 0)
            log_debug("inert: %s", why);
        else
            log_error("disabled: %s", why);
        return NULL;
    }
    if (config_rc != 0) {
        log_error("%s (preemption disabled)", config_error);
        return NULL;
    }
    if (rc == 0)
        rc = warm ? prepare_cached(why, sizeof why) : prepare(why, sizeof why);
    if (rc > 0) {
        report_nothing_to_do(why, ctx->launched);
        return NULL;
    }
    if (rc < 0) {
        log_error("disabled: %s", why);
        return NULL;
    }
    atexit(shutdown_at_exit);
    hijack_install_hook();
    atomic_store(&shim_enabled, true);
    if (!thread_register_self(true)) {          /* it will run caml_main */
        shim_disable("thread registry full");
        return NULL;
    }
    char switch_hook[512] = "";
    if ((warm ? switch_hook_install_cached(&cached, &self_memory, switch_hook, sizeof switch_hook)
              : switch_hook_install(self_image, switch_hook, sizeof switch_hook)) == 0)
        log_info("fiber switches counted exactly: caml_runstack and caml_resume patched %s",
                 switch_hook);
    else
        log_info("fiber switches counted only at preemptions (%s): a fiber that yields "
                 "between two looks of the monitor may be preempted early", switch_hook);
    if (request_start(why, sizeof why) != 0) {
        shim_disable(why);
        return NULL;
    }
    log_debug("start-up %s: %.3f ms of CPU", warm ? "from the analysis cache" : "with the analysis",
              (double)(thread_cpu_now_ns() - started) / 1e6);
    if (cache_open && !warm)
        analysis_cache_save();
    thread_registry_report_unregistered();
    struct site_table_counts c;
    site_table_counts(&c);
    static const char *const policy[] = { "poll", "loop", "all" };
    log_info("active: yield %s, quantum %lluus; %lu poll + %lu allocation sites "
             "(%lu denied, %lu of them inside inlined denied code; %lu inside inlined "
             "critical code; %lu unrecognised, %lu left out by sites=%s; %lu allocation "
             "sites without debuginfo, inlining unseen there as at every poll); %zu critical ranges; %zu return addresses "
             "inside inlined denied or critical code",
             yield_target_name(), (unsigned long long)(shim_config.quantum_ns / 1000),
             c.poll, c.alloc, c.denied, c.inlined_denied, c.inlined_extent, c.bad_shape,
             c.policy, policy[shim_config.sites], c.no_debuginfo, landing_extents()->count,
             inline_frames_count());
    if (chaos_enabled())
        log_info("chaos mode: seed %llu, %u preemptions per MiB allocated (mean); the "
                 "quantum is not used", (unsigned long long)shim_config.chaos_seed,
                 shim_config.chaos_rate);
    report_settings_without_effect();
    return &forwarded_calls;
}
