/* shim_main: start-up and shut-down of libocpreempt.so.
 *
 * The constructor runs after the executable is relocated and before main(), i.e. before
 * the OCaml runtime initialises. It decides once whether this process is ours:
 *  - not an OCaml 5 native executable (a shell, an exec'd child, OCaml 4, bytecode): stay
 *    inert and silent (a debug line only if OCPREEMPT_LOG=debug);
 *  - an OCaml 5 executable we cannot handle (bad configuration, unknown layout, missing
 *    symbols, no yield function): one line on stderr, then inert (fail open);
 *  - otherwise: bind the runtime, build the safe-point table, install the interrupt hook,
 *    register the main thread and start the request path.
 * Nothing here runs OCaml code; the first OCaml-context work happens in the hook.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_image.h"
#include "hijack.h"
#include "log.h"
#include "request.h"
#include "runtime.h"
#include "shim_state.h"
#include "site_table.h"
#include "stats.h"
#include "thread_registry.h"
#include "trace.h"
#include "yield_report.h"
#include "yield_target.h"

struct ocpreempt_config shim_config;
_Atomic bool shim_enabled;
static struct elf_image *self_image;       /* kept open: symbol names for stats/trace */

void shim_disable(const char *why)
{
    bool was = atomic_exchange(&shim_enabled, false);
    if (was || why)
        log_error("disabled: %s", why ? why : "(no reason given)");
}

/* The yield to call: OCPREEMPT_YIELD, else one detected without doubt; the rule is
 * yield_report_choice, the same the probe's verdict uses. NULL with `why` set otherwise. */
static const char *choose_yield(char *why, size_t why_len)
{
    static struct yield_report found;      /* large: keep it off the stack */
    yield_report_fill(self_image, shim_config.yield[0] ? shim_config.yield : NULL, &found);
    return yield_report_choice(&found, why, why_len);
}

/* Is this an OCaml 5.3 native executable we can bind to? 1 not ours (inert), 0 bound,
 * -1 ours but unusable (why set). Independent of the configuration. */
static int identify(char *why, size_t why_len)
{
    struct analysis_error err;
    if (elf_image_open("/proc/self/exe", &self_image, &err) != 0) {
        log_debug("not analysing this process: %s", err.msg);
        return 1;
    }
    int rc = runtime_bind(self_image, why, why_len);
    if (rc != 0) {
        if (rc > 0)
            log_debug("inert: %s", why);
        return rc;
    }
    if (ocaml_rt.info.frame_pointers) {
        snprintf(why, why_len, "runtimes built with frame pointers are not supported yet");
        return -1;
    }
    return 0;
}

/* Everything that depends on the configuration. 0, or -1 with why set. */
static int prepare(char *why, size_t why_len)
{
    const char *yield = choose_yield(why, why_len);
    if (!yield)
        return -1;
    if (yield_target_prepare(self_image, yield, why, why_len) != 0 ||
        site_table_build(self_image, why, why_len) != 0 || trace_open(why, why_len) != 0)
        return -1;
    return 0;
}

static void at_exit_report(void)
{
    request_stop();
    stats_report();
    trace_close();
}

__attribute__((constructor)) static void ocpreempt_init(void)
{
    char why[512] = "";
    char config_error[512] = "";
    stats_start();
    int config_rc = config_load(&shim_config, config_error, sizeof config_error);
    log_set_level(shim_config.log);      /* valid even when config_load failed */
    if (config_rc == 0 && !shim_config.enabled)
        return;
    /* Whose process is this? A shell or an exec'd non-OCaml child stays silent even with
       a configuration it would reject. */
    int rc = identify(why, sizeof why);
    if (rc > 0)
        return;
    if (config_rc != 0) {
        log_error("%s (preemption disabled)", config_error);
        return;
    }
    if (rc == 0)
        rc = prepare(why, sizeof why);
    if (rc < 0) {
        log_error("disabled: %s", why);
        return;
    }
    atexit(at_exit_report);
    hijack_install_hook();
    atomic_store(&shim_enabled, true);
    if (!thread_register_self()) {
        shim_disable("thread registry full");
        return;
    }
    if (request_start(why, sizeof why) != 0) {
        shim_disable(why);
        return;
    }
    struct site_table_counts c;
    site_table_counts(&c);
    log_info("active: yield %s, quantum %lluus; %lu poll + %lu allocation sites "
             "(%lu denied, %lu unrecognised)",
             yield_target_name(), (unsigned long long)(shim_config.quantum_ns / 1000),
             c.poll, c.alloc, c.denied, c.bad_shape);
}
