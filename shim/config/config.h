/* config: the one table of OCPREEMPT_* environment variables.
 *
 * Read once, in the shim's constructor (and by ocpreempt-checkenv for the launcher's strict
 * mode), never in signal context. Invariants:
 *  - every variable has a default and a documented set of accepted forms;
 *  - a bad value yields exactly one line naming the variable, the value and the accepted
 *    forms, and config_load() returns -1 (the caller disables the shim: fail open);
 *  - an OCPREEMPT_* variable that is neither in the table nor reserved for the tools
 *    (OCPREEMPT_LIB, OCPREEMPT_CACHE, OCPREEMPT_LAUNCHED) is a typo: also one line, also -1;
 *  - a retired variable (OCPREEMPT_REQUEST, OCPREEMPT_SIGNAL: the signal request path was
 *    removed) gets one line saying so and what to do, also -1; OCPREEMPT_REQUEST=monitor,
 *    which asks for what the shim does anyway, is accepted;
 *  - an empty value means the same as an unset variable (the default);
 *  - nothing here allocates (no malloc, no stdio streams), so config_load() is safe in a
 *    constructor that runs before the program's allocator is set up.
 * The table itself, with every parser, is in config.c; docs/configuration.md is its prose.
 */
#ifndef OCPREEMPT_CONFIG_H
#define OCPREEMPT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>

/* Ordered: a message is printed when its level is <= the configured one. LOG_WARN (the
 * default) prints only errors and warnings, i.e. the shim is silent unless something is
 * wrong; LOG_QUIET prints nothing at all. */
enum log_level { LOG_QUIET, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum stats_format { STATS_TEXT, STATS_JSON };
enum trace_format { TRACE_TEXT, TRACE_CHROME };
/* OCPREEMPT_SITES: poll sites only; + allocation sites that are a loop's only safe points
 * (analysis/code/loop_sites.h); + every allocation site. */
enum site_policy { SITES_POLL, SITES_LOOP, SITES_ALL };

#define CONFIG_NAME_MAX 256
#define CONFIG_DENY_MAX 64
#define CONFIG_DENY_ENTRY_MAX 64      /* bytes per deny entry, NUL included */
#define CONFIG_CRITICAL_MAX 32
#define CONFIG_CRITICAL_ENTRY_MAX 128 /* bytes per critical entry, NUL included */
#define CONFIG_ERR_MAX 512            /* a buffer this size never truncates an error */

#define CONFIG_CHAOS_RANGES_MAX 4096  /* OCPREEMPT_CHAOS=SEED:LIST: ranges in LIST */
#define CONFIG_CHAOS_RATE_MAX 65536   /* OCPREEMPT_CHAOS_RATE: preemptions per MiB */

#define CONFIG_QUANTUM_MIN_NS 100000ULL          /* 100us */
#define CONFIG_QUANTUM_MAX_NS 10000000000ULL     /* 10s */

struct ocpreempt_config {
    uint64_t quantum_ns;              /* OCPREEMPT_QUANTUM: 10ms default, 100us..10s */
    char yield[CONFIG_NAME_MAX];      /* OCPREEMPT_YIELD: Module.fn; "" = auto-detect */
    bool stats;                       /* OCPREEMPT_STATS: 0 = off, 1 = stderr, else PATH */
    char stats_path[PATH_MAX];        /*   "" = stderr */
    enum stats_format stats_format;   /* OCPREEMPT_STATS_FORMAT: text|json */
    char trace_path[PATH_MAX];        /* OCPREEMPT_TRACE: PATH, "" = off */
    enum trace_format trace_format;   /* OCPREEMPT_TRACE_FORMAT: text|chrome */
    enum log_level log;               /* OCPREEMPT_LOG: quiet|warn|info|debug (warn) */
    bool strict;                      /* OCPREEMPT_STRICT: 0|1 */
    bool enabled;                     /* OCPREEMPT_DISABLE=1 turns the shim off */
    /* OCPREEMPT_DENY: comma-separated units or libraries where preemption never lands;
     * "+A,B" appends to the default list, "A,B" replaces it, "none" empties it.
     * Entries are unit names as in symbols without "caml" (Stdlib__Mutex, Eio, ...),
     * matched as units (analysis/names/ocaml_units.h), not as string prefixes. */
    size_t deny_count;
    char deny[CONFIG_DENY_MAX][CONFIG_DENY_ENTRY_MAX];
    /* OCPREEMPT_CRITICAL: Module or Module.fn entries added to the built-in critical
     * extents (analysis/names/critical_extents.h); "" = none. */
    size_t critical_count;
    char critical[CONFIG_CRITICAL_MAX][CONFIG_CRITICAL_ENTRY_MAX];
    enum site_policy sites;           /* OCPREEMPT_SITES: poll|loop|all */
    /* OCPREEMPT_CHAOS: SEED (chaos mode: seeded preemptions on an allocation clock, see
     * shim/inject/chaos.h), optionally SEED:LIST, LIST = N or N-M ranges separated by commas:
     * only the chaos preemptions with those numbers are performed (replay of a subset).
     * "" = off. */
    bool chaos;
    uint64_t chaos_seed;
    bool chaos_listed;                /* SEED:LIST given: only the listed ones (an empty
                                         LIST performs none) */
    size_t chaos_range_count;
    struct config_range { uint32_t first, last; } chaos_ranges[CONFIG_CHAOS_RANGES_MAX];
    uint32_t chaos_rate;              /* OCPREEMPT_CHAOS_RATE: mean preemptions per MiB
                                         allocated on the minor heap, 1..65536 (64) */
    bool self_clock;                  /* OCPREEMPT_SELF_CLOCK: 0|1, allocating fibers clock
                                         themselves (shim/inject/self_clock.h) */
    bool verify;                      /* OCPREEMPT_VERIFY: 0|1, every landing decision
                                         checked against the reference walk (landing.c) */
    char assume_runtime[8];           /* OCPREEMPT_ASSUME_RUNTIME: "5.3" runs a release
                                         without a profile on the 5.3 profile where its
                                         DWARF agrees (analysis/runtime/runtime_profile.h); "" none */
    char analysis_cache[PATH_MAX];    /* OCPREEMPT_ANALYSIS_CACHE: "" the default folder
                                         (shim/base/cache_store.h), "off", or a folder */
};

/* Fills *cfg from the environment. Returns 0, or -1 after writing one line to `err`
 * (no "ocpreempt: " prefix, no newline). On -1, cfg->enabled is false and cfg->log holds
 * the level from OCPREEMPT_LOG when that variable itself was valid (otherwise the
 * default), so the caller knows whether to print the line. */
int config_load(struct ocpreempt_config *cfg, char *err, size_t errlen);

/* Defaults only (no environment). */
void config_defaults(struct ocpreempt_config *cfg);

/* Parses a duration like "10ms", "500us", "2ms", "1s", "100000ns": decimal digits then
 * exactly one of ns|us|ms|s, nothing else. No range check. 0, or -1 (syntax/overflow). */
int config_parse_duration(const char *s, uint64_t *ns);

/* Validates one value as if `name`=`value` were the whole environment (the launcher uses
 * it for command-line options). 0, or -1 with the same one line config_load() writes,
 * also for an unknown name. */
int config_check_value(const char *name, const char *value, char *err, size_t errlen);

/* The table, for --help and --print style listings. */
struct config_option_doc {
    const char *name;                 /* "OCPREEMPT_QUANTUM" */
    const char *default_text;         /* in the accepted form, "" for empty */
    const char *accepted;             /* the text that ends an error line */
    const char *summary;              /* one short sentence */
    /* The start-up analysis does not read it: left out of the analysis cache's key
     * (shim/base/cache_store.h). Unset, a new variable is part of the key: safe. */
    bool analysis_free;
};
size_t config_option_count(void);
const struct config_option_doc *config_option_doc(size_t index);   /* NULL past the end */
/* Writes option `index` of *cfg in its accepted form (so it can be fed back). 0 or -1. */
int config_format_option(const struct ocpreempt_config *cfg, size_t index,
                         char *buf, size_t len);

#endif
