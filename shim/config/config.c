/* config.c: parses the OCPREEMPT_* environment through one table of options.
 *
 * Each row of `options` holds the variable's name, its parser, its formatter, its default
 * (as text, parsed by the same parser, so a default can never disagree with the accepted
 * forms), the accepted-forms text that ends every error line, and a summary for listings.
 * Invariants:
 *  - a parser either stores the value in the config and returns NULL, or returns a short
 *    static phrase saying what is wrong ("is not a duration"); it never prints;
 *  - the error line is always "NAME=VALUE PROBLEM; ACCEPTED" with VALUE sanitised (control
 *    characters become '?', long values are cut) so the line stays one line;
 *  - no allocation, no stdio streams (snprintf into caller buffers only): this runs in the
 *    shim's constructor, possibly before the program's allocator is usable;
 *  - variables are read in table order and the first error wins; OCPREEMPT_LOG comes first
 *    so that the level is known when the error has to be printed (or not).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;

#define ENV_PREFIX "OCPREEMPT_"
#define ENV_PREFIX_LEN (sizeof ENV_PREFIX - 1)
#define VALUE_SHOWN_MAX 80            /* characters of a bad value quoted in an error */

/* NULL = accepted and stored; otherwise a phrase that follows "NAME=VALUE ". */
typedef const char *(*option_parser)(const char *value, struct ocpreempt_config *cfg);
/* Writes the option's current value in an accepted form; -1 if it does not fit. */
typedef int (*option_formatter)(const struct ocpreempt_config *cfg, char *buf, size_t len);

struct option {
    struct config_option_doc doc;
    option_parser parse;
    option_formatter format;
};

/* Variables the tools read, not the shim; present in a user's environment, not typos. */
static const char *const reserved_names[] = {
    "OCPREEMPT_LIB",      /* scripts/ocpreempt: the library to preload */
    "OCPREEMPT_CACHE",    /* scripts/setup-ocaml.sh and CMake: the OCaml toolchain cache */
    "OCPREEMPT_LAUNCHED", /* scripts/ocpreempt run -> the shim: pid of the program it
                             started, which says why when it has nothing to preempt */
};

/* Variables of the retired signal request path (docs/design.md, "Why there is no signal
 * mode"). Not options: never listed, never printed; set, they get one line that says
 * what happened and what to do. `accepted` is the one value still meaning what the shim
 * does (NULL: none). */
static const struct retired_variable {
    const char *name;
    const char *accepted;
    const char *problem;
} retired_variables[] = {
    { "OCPREEMPT_REQUEST", "monitor",
      "asks for a request path that no longer exists: the monitor is the only one (signal "
      "mode was removed: its CPU-time timers fire only on the kernel's scheduler tick); "
      "unset OCPREEMPT_REQUEST" },
    { "OCPREEMPT_SIGNAL", NULL,
      "sets the signal of the removed signal mode: the monitor sends no signal; unset "
      "OCPREEMPT_SIGNAL" },
};
#define RETIRED_COUNT (sizeof retired_variables / sizeof retired_variables[0])

/* ---- small helpers --------------------------------------------------------------- */

/* snprintf that reports truncation as -1, so formatters can say "did not fit". */
static int put(char *buf, size_t len, const char *text)
{
    int n = snprintf(buf, len, "%s", text);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* Index of `value` in the NULL-terminated `words`, or -1. Exact, case-sensitive. */
static int keyword_index(const char *value, const char *const *words)
{
    for (int i = 0; words[i] != NULL; i++)
        if (strcmp(value, words[i]) == 0)
            return i;
    return -1;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

/* OCaml identifier tail characters: letters, digits, '_' and '\''. Locale-independent on
 * purpose: isalnum() would accept accented letters under some locales. */
static bool is_ident_char(char c)
{
    return is_upper(c) || is_lower(c) || is_digit(c) || c == '_' || c == '\'';
}

/* ---- durations -------------------------------------------------------------------- */

static const struct duration_unit {
    const char *suffix;
    uint64_t ns;
} duration_units[] = {
    /* Largest first: the formatter picks the first unit that divides exactly. */
    { "s", 1000000000ULL }, { "ms", 1000000ULL }, { "us", 1000ULL }, { "ns", 1ULL },
};
#define DURATION_UNIT_COUNT (sizeof duration_units / sizeof duration_units[0])

/* The decimal digits at the start of s (at least one) into *out; returns the first
 * character after them, or NULL (no digit, or overflow). No sign, no spaces. */
static const char *leading_decimal(const char *s, uint64_t *out)
{
    uint64_t n = 0;
    if (s == NULL || !is_digit(*s))
        return NULL;
    for (; is_digit(*s); s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (n > (UINT64_MAX - d) / 10)
            return NULL;
        n = n * 10 + d;
    }
    *out = n;
    return s;
}

/* A whole string of decimal digits. 0 or -1. */
static int parse_decimal(const char *s, uint64_t *out)
{
    const char *end = leading_decimal(s, out);
    return end != NULL && *end == '\0' ? 0 : -1;
}

int config_parse_duration(const char *s, uint64_t *ns)
{
    uint64_t n;
    const char *p = leading_decimal(s, &n);
    if (p == NULL)
        return -1;
    for (size_t i = 0; i < DURATION_UNIT_COUNT; i++) {
        if (strcmp(p, duration_units[i].suffix) != 0)
            continue;
        if (n > UINT64_MAX / duration_units[i].ns)
            return -1;
        *ns = n * duration_units[i].ns;
        return 0;
    }
    return -1;   /* no unit, an unknown unit, or trailing characters */
}

static int format_duration(uint64_t ns, char *buf, size_t len)
{
    for (size_t i = 0; i < DURATION_UNIT_COUNT; i++) {
        const struct duration_unit *u = &duration_units[i];
        if (ns % u->ns == 0) {
            int n = snprintf(buf, len, "%llu%s", (unsigned long long)(ns / u->ns), u->suffix);
            return (n < 0 || (size_t)n >= len) ? -1 : 0;
        }
    }
    return -1;   /* unreachable: 1ns divides everything */
}

/* ---- OCaml names ------------------------------------------------------------------ */

/* One identifier [A-Za-z_][A-Za-z0-9_']* starting at s, ending at '.' or NUL.
 * Returns its length, or 0 if s does not start with one. */
static size_t identifier_length(const char *s)
{
    size_t n = 0;
    if (!(is_upper(s[0]) || is_lower(s[0]) || s[0] == '_'))
        return 0;
    while (is_ident_char(s[n]))
        n++;
    return n;
}

/* "Module.fn", "A.B.fn": capitalised module components, then a value name (lowercase or
 * '_' first: a capitalised last component would be a constructor, not a function). */
static bool is_yield_path(const char *s)
{
    size_t components = 0;
    for (;;) {
        size_t n = identifier_length(s);
        if (n == 0)
            return false;
        components++;
        if (s[n] == '\0')
            return components >= 2 && (is_lower(s[0]) || s[0] == '_');
        if (s[n] != '.' || !is_upper(s[0]))
            return false;
        s += n + 1;
    }
}

static const char *parse_yield(const char *value, struct ocpreempt_config *cfg)
{
    if (strlen(value) >= sizeof cfg->yield)
        return "is too long";
    if (!is_yield_path(value))
        return "is not a Module.function path";
    strcpy(cfg->yield, value);
    return NULL;
}

static int format_yield(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, cfg->yield);
}

/* ---- deny list -------------------------------------------------------------------- */

/* Compilation units or libraries (analysis/names/ocaml_units.h: `Eio` covers Eio, Eio__* and
 * Eio's own units, not a user's Eio_app) where a preemption never lands: code that must
 * not be *where* a fiber stops (the scheduler re-enters it, or it holds a lock). Code
 * whose callees must not be preempted either is a critical extent (OCPREEMPT_CRITICAL and
 * the built-in list in analysis/names/critical_extents.c). docs/configuration.md explains each. */
#define DENY_DEFAULT                                                                      \
    "Stdlib__Effect,Stdlib__Mutex,Stdlib__Condition,Stdlib__Semaphore,Stdlib__Queue,"    \
    "Stdlib__Stack,Stdlib__Buffer,Stdlib__Atomic,Stdlib__Printf,CamlinternalFormat,"     \
    "Thread,Eio,Miou,Picos,Moonpool,Domainslib,Saturn,Lwt"

static bool deny_contains(const struct ocpreempt_config *cfg, const char *entry, size_t n)
{
    for (size_t i = 0; i < cfg->deny_count; i++)
        if (strlen(cfg->deny[i]) == n && memcmp(cfg->deny[i], entry, n) == 0)
            return true;
    return false;
}

/* Checks and appends one entry of length n (not NUL-terminated). */
static const char *deny_add(struct ocpreempt_config *cfg, const char *entry, size_t n)
{
    if (n == 0)
        return "has an empty entry";
    if (n >= CONFIG_DENY_ENTRY_MAX)
        return "has an entry longer than 63 characters";
    if (!is_upper(entry[0]))
        return "has an entry that is not a capitalised module name";
    for (size_t i = 1; i < n; i++)
        if (!is_ident_char(entry[i]))
            return "has an entry that is not a capitalised module name";
    if (deny_contains(cfg, entry, n))
        return NULL;   /* "+Eio" on top of the default list is harmless */
    if (cfg->deny_count == CONFIG_DENY_MAX)
        return "has more than 64 entries";
    memcpy(cfg->deny[cfg->deny_count], entry, n);
    cfg->deny[cfg->deny_count][n] = '\0';
    cfg->deny_count++;
    return NULL;
}

/* Appends every comma-separated entry of `list`. */
static const char *deny_add_list(struct ocpreempt_config *cfg, const char *list)
{
    for (;;) {
        const char *comma = strchr(list, ',');
        size_t n = comma ? (size_t)(comma - list) : strlen(list);
        const char *problem = deny_add(cfg, list, n);
        if (problem != NULL)
            return problem;
        if (comma == NULL)
            return NULL;
        list = comma + 1;
    }
}

static const char *parse_deny(const char *value, struct ocpreempt_config *cfg)
{
    if (strcmp(value, "none") == 0) {
        cfg->deny_count = 0;
        return NULL;
    }
    cfg->deny_count = 0;
    if (value[0] == '+') {
        const char *problem = deny_add_list(cfg, DENY_DEFAULT);
        if (problem != NULL)
            return problem;   /* only if DENY_DEFAULT itself were broken: tested */
        value++;
    }
    return deny_add_list(cfg, value);
}

static int format_deny(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    size_t used = 0;
    if (cfg->deny_count == 0)
        return put(buf, len, "none");
    if (len == 0)
        return -1;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->deny_count; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? "," : "", cfg->deny[i]);
        if (n < 0 || (size_t)n >= len - used)
            return -1;
        used += (size_t)n;
    }
    return 0;
}

/* ---- critical extents ------------------------------------------------------------ */

/* OCPREEMPT_CRITICAL: functions (Module.fn) or units/libraries (Module, A.B) during whose
 * execution, callees included, a fiber is never preempted. Always added to the built-in
 * extents (analysis/names/critical_extents.c), which cannot be removed: they protect the
 * Stdlib's own invariants. */

/* "A", "A.B", "Stdlib__Hashtbl": capitalised module components only. */
static bool is_module_path(const char *s)
{
    for (;;) {
        size_t n = identifier_length(s);
        if (n == 0 || !is_upper(s[0]))
            return false;
        if (s[n] == '\0')
            return true;
        if (s[n] != '.')
            return false;
        s += n + 1;
    }
}

static const char *critical_add(struct ocpreempt_config *cfg, const char *entry, size_t n)
{
    char one[CONFIG_CRITICAL_ENTRY_MAX];
    if (n == 0)
        return "has an empty entry";
    if (n >= CONFIG_CRITICAL_ENTRY_MAX)
        return "has an entry longer than 127 characters";
    memcpy(one, entry, n);
    one[n] = '\0';
    if (!is_module_path(one) && !is_yield_path(one))
        return "has an entry that is neither Module nor Module.function";
    for (size_t i = 0; i < cfg->critical_count; i++)
        if (strcmp(cfg->critical[i], one) == 0)
            return NULL;
    if (cfg->critical_count == CONFIG_CRITICAL_MAX)
        return "has more than 32 entries";
    memcpy(cfg->critical[cfg->critical_count++], one, n + 1);
    return NULL;
}

static const char *parse_critical(const char *value, struct ocpreempt_config *cfg)
{
    cfg->critical_count = 0;
    for (;;) {
        const char *comma = strchr(value, ',');
        size_t n = comma ? (size_t)(comma - value) : strlen(value);
        const char *problem = critical_add(cfg, value, n);
        if (problem != NULL)
            return problem;
        if (comma == NULL)
            return NULL;
        value = comma + 1;
    }
}

static int format_critical(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return -1;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->critical_count; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? "," : "", cfg->critical[i]);
        if (n < 0 || (size_t)n >= len - used)
            return -1;
        used += (size_t)n;
    }
    return 0;
}

/* ---- keywords, booleans, paths ---------------------------------------------------- */

static const char *const log_words[] = { "quiet", "warn", "info", "debug", NULL };
static const char *const stats_format_words[] = { "text", "json", NULL };
static const char *const bool_words[] = { "0", "1", NULL };

static const char *parse_log(const char *value, struct ocpreempt_config *cfg)
{
    int i = keyword_index(value, log_words);
    if (i < 0)
        return "is not a log level";
    cfg->log = (enum log_level)i;
    return NULL;
}

static int format_log(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, log_words[cfg->log]);
}

static const char *parse_stats_format(const char *value, struct ocpreempt_config *cfg)
{
    int i = keyword_index(value, stats_format_words);
    if (i < 0)
        return "is not a stats format";
    cfg->stats_format = (enum stats_format)i;
    return NULL;
}

static int format_stats_format(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, stats_format_words[cfg->stats_format]);
}

/* OCPREEMPT_SITES: which safe points a preemption may use (README: what each keeps atomic). */
static const char *const sites_words[] = { "poll", "loop", "all", NULL };

static const char *parse_sites(const char *value, struct ocpreempt_config *cfg)
{
    int i = keyword_index(value, sites_words);
    if (i < 0)
        return "is not a site policy";
    cfg->sites = (enum site_policy)i;
    return NULL;
}

static int format_sites(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, sites_words[cfg->sites]);
}

/* 0 or 1, nothing else: "yes"/"true" would invite "no"/"false" typos that read as on. */
static int parse_bool(const char *value, bool *out)
{
    int i = keyword_index(value, bool_words);
    if (i < 0)
        return -1;
    *out = i == 1;
    return 0;
}

static const char *parse_verify(const char *value, struct ocpreempt_config *cfg)
{
    return parse_bool(value, &cfg->verify) == 0 ? NULL : "is not 0 or 1";
}

static int format_verify(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, cfg->verify ? "1" : "0");
}

static const char *parse_self_clock(const char *value, struct ocpreempt_config *cfg)
{
    return parse_bool(value, &cfg->self_clock) == 0 ? NULL : "is not 0 or 1";
}

static int format_self_clock(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, cfg->self_clock ? "1" : "0");
}

/* A release series, "5.3": digits, a dot, digits. Whether a profile exists for it is the
 * engine's to say (runtime_profile_select), with the list of those that do. */
static const char *parse_assume_runtime(const char *value, struct ocpreempt_config *cfg)
{
    size_t major = strspn(value, "0123456789");
    size_t minor = value[major] == '.' ? strspn(value + major + 1, "0123456789") : 0;
    if (value[0] == '\0') {
        cfg->assume_runtime[0] = '\0';
        return NULL;
    }
    if (major == 0 || minor == 0 || value[major + 1 + minor] != '\0' ||
        strlen(value) >= sizeof cfg->assume_runtime)
        return "is not a release series";
    strcpy(cfg->assume_runtime, value);
    return NULL;
}

static int format_assume_runtime(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, cfg->assume_runtime);
}

static const char *parse_analysis_cache(const char *value, struct ocpreempt_config *cfg)
{
    /* room for "/<64 hex>.tmp.<pid>.<n>" after the folder */
    if (strcmp(value, "off") != 0 && value[0] != '\0' &&
        (value[0] != '/' || strlen(value) >= sizeof cfg->analysis_cache - 128))
        return value[0] != '/' ? "is not off or an absolute path" : "is too long";
    strcpy(cfg->analysis_cache, value);
    return NULL;
}

static int format_analysis_cache(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, cfg->analysis_cache);
}

static const char *parse_strict(const char *value, struct ocpreempt_config *cfg)
{
    return parse_bool(value, &cfg->strict) == 0 ? NULL : "is not 0 or 1";
}

static int format_strict(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, cfg->strict ? "1" : "0");
}

static const char *parse_disable(const char *value, struct ocpreempt_config *cfg)
{
    bool disable;
    if (parse_bool(value, &disable) != 0)
        return "is not 0 or 1";
    cfg->enabled = !disable;
    return NULL;
}

static int format_disable(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, cfg->enabled ? "0" : "1");
}

static const char *parse_stats(const char *value, struct ocpreempt_config *cfg)
{
    if (strlen(value) >= sizeof cfg->stats_path)
        return "is too long for a path";
    cfg->stats = strcmp(value, "0") != 0;
    /* "1" means stderr; a file literally named 1 is spelled ./1. */
    strcpy(cfg->stats_path, strcmp(value, "0") == 0 || strcmp(value, "1") == 0 ? "" : value);
    return NULL;
}

static int format_stats(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    if (!cfg->stats)
        return put(buf, len, "0");
    return put(buf, len, cfg->stats_path[0] ? cfg->stats_path : "1");
}

static const char *parse_trace(const char *value, struct ocpreempt_config *cfg)
{
    if (strlen(value) >= sizeof cfg->trace_path)
        return "is too long for a path";
    strcpy(cfg->trace_path, value);
    return NULL;
}

static int format_trace(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, cfg->trace_path);
}

static const char *const trace_format_words[] = { "text", "chrome", NULL };

static const char *parse_trace_format(const char *value, struct ocpreempt_config *cfg)
{
    int i = keyword_index(value, trace_format_words);
    if (i < 0)
        return "is not a trace format";
    cfg->trace_format = (enum trace_format)i;
    return NULL;
}

static int format_trace_format(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return put(buf, len, trace_format_words[cfg->trace_format]);
}

static const char *parse_quantum(const char *value, struct ocpreempt_config *cfg)
{
    uint64_t ns;
    if (config_parse_duration(value, &ns) != 0)
        return "is not a duration";
    if (ns < CONFIG_QUANTUM_MIN_NS)
        return "is below the minimum 100us";
    if (ns > CONFIG_QUANTUM_MAX_NS)
        return "is above the maximum 10s";
    cfg->quantum_ns = ns;
    return NULL;
}

static int format_quantum(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    return format_duration(cfg->quantum_ns, buf, len);
}

/* ---- chaos mode --------------------------------------------------------------------- */

/* "N" or "N-M" (N <= M, both >= 1) of length n. 0 or -1. */
static int parse_range(const char *s, size_t n, struct config_range *out)
{
    char buf[32];
    uint64_t first, last;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *dash = strchr(buf, '-');
    if (dash)
        *dash = '\0';
    if (parse_decimal(buf, &first) != 0)
        return -1;
    last = first;
    if (dash && parse_decimal(dash + 1, &last) != 0)
        return -1;
    if (first < 1 || last < first || last > UINT32_MAX)
        return -1;
    out->first = (uint32_t)first;
    out->last = (uint32_t)last;
    return 0;
}

/* The ranges after "SEED:", ascending and disjoint (the shim walks them in order). */
static const char *parse_chaos_ranges(const char *list, struct ocpreempt_config *cfg)
{
    cfg->chaos_range_count = 0;
    cfg->chaos_listed = true;
    if (*list == '\0')
        return NULL;                  /* "SEED:": none is performed (a shrinking baseline) */
    for (;;) {
        const char *comma = strchr(list, ',');
        size_t n = comma ? (size_t)(comma - list) : strlen(list);
        struct config_range r;
        if (parse_range(list, n, &r) != 0)
            return "has a preemption list entry that is not N or N-M (N >= 1)";
        if (cfg->chaos_range_count > 0 &&
            r.first <= cfg->chaos_ranges[cfg->chaos_range_count - 1].last)
            return "has a preemption list that is not ascending";
        if (cfg->chaos_range_count == CONFIG_CHAOS_RANGES_MAX)
            return "has more than 4096 ranges in its preemption list";
        cfg->chaos_ranges[cfg->chaos_range_count++] = r;
        if (comma == NULL)
            return NULL;
        list = comma + 1;
    }
}

static const char *parse_chaos(const char *value, struct ocpreempt_config *cfg)
{
    char seed[32];
    const char *colon = strchr(value, ':');
    size_t n = colon ? (size_t)(colon - value) : strlen(value);
    if (n == 0 || n >= sizeof seed)
        return "is not a seed";
    memcpy(seed, value, n);
    seed[n] = '\0';
    if (parse_decimal(seed, &cfg->chaos_seed) != 0)
        return "is not a seed";
    cfg->chaos_range_count = 0;
    cfg->chaos_listed = false;
    if (colon) {
        const char *problem = parse_chaos_ranges(colon + 1, cfg);
        if (problem != NULL)
            return problem;
    }
    cfg->chaos = true;
    return NULL;
}

static int format_chaos(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    if (!cfg->chaos)
        return put(buf, len, "");
    int used = snprintf(buf, len, "%llu%s", (unsigned long long)cfg->chaos_seed,
                        cfg->chaos_listed && cfg->chaos_range_count == 0 ? ":" : "");
    for (size_t i = 0; i < cfg->chaos_range_count; i++) {
        if (used < 0 || (size_t)used >= len)
            return -1;
        const struct config_range *r = &cfg->chaos_ranges[i];
        int w = r->first == r->last
                    ? snprintf(buf + used, len - (size_t)used, "%s%u", i ? "," : ":", r->first)
                    : snprintf(buf + used, len - (size_t)used, "%s%u-%u", i ? "," : ":",
                               r->first, r->last);
        used = w < 0 ? -1 : used + w;
    }
    return (used < 0 || (size_t)used >= len) ? -1 : 0;
}

static const char *parse_chaos_rate(const char *value, struct ocpreempt_config *cfg)
{
    uint64_t rate;
    if (parse_decimal(value, &rate) != 0)
        return "is not a whole number";
    if (rate < 1 || rate > CONFIG_CHAOS_RATE_MAX)
        return "is out of range";
    cfg->chaos_rate = (uint32_t)rate;
    return NULL;
}

static int format_chaos_rate(const struct ocpreempt_config *cfg, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%u", cfg->chaos_rate);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* ---- the table -------------------------------------------------------------------- */

static const struct option options[] = {
    /* First, so the level is known when another variable's error must be printed. */
    { { "OCPREEMPT_LOG", "warn", "use quiet, warn, info or debug",
        "what the shim prints on stderr: nothing, only problems, a summary, everything", true },
      parse_log, format_log },
    { { "OCPREEMPT_QUANTUM", "10ms", "use e.g. 10ms, 500us (minimum 100us)",
        "how long a fiber runs before it is asked to yield", true },
      parse_quantum, format_quantum },
    { { "OCPREEMPT_YIELD", "",
        "use a dotted OCaml path such as Sched.yield or Mylib.Sched.yield, "
        "or leave empty to auto-detect",
        "the OCaml function called to yield the running fiber", false },
      parse_yield, format_yield },
    { { "OCPREEMPT_STATS", "0", "use 0 (off), 1 (stderr) or a file path",
        "print preemption statistics at exit", true },
      parse_stats, format_stats },
    { { "OCPREEMPT_STATS_FORMAT", "text", "use text or json",
        "the format of the statistics", true },
      parse_stats_format, format_stats_format },
    { { "OCPREEMPT_TRACE", "", "use a file path, or leave empty for no trace",
        "append one line per preemption to this file (docs/trace.md)", true },
      parse_trace, format_trace },
    { { "OCPREEMPT_TRACE_FORMAT", "text", "use text or chrome",
        "text: one line per preemption, appended (several processes may share the file); "
        "chrome: trace-event JSON for Perfetto and chrome://tracing, one file per process "
        "(PATH.PID), written at exit (docs/trace.md)", true },
      parse_trace_format, format_trace_format },
    { { "OCPREEMPT_STRICT", "0", "use 0 or 1",
        "1: a configuration or compatibility problem stops the program instead of "
        "running it without preemption", true },
      parse_strict, format_strict },
    { { "OCPREEMPT_DISABLE", "0", "use 0 or 1",
        "1: the shim does nothing", true },
      parse_disable, format_disable },
    { { "OCPREEMPT_DENY", DENY_DEFAULT,
        "use comma-separated capitalised unit or library names such as Mylib,Stdlib__Mutex; "
        "+A,B appends to the default list, none empties it",
        "units and libraries where a preemption never lands", false },
      parse_deny, format_deny },
    { { "OCPREEMPT_CRITICAL", "",
        "use comma-separated Module or Module.function names such as Mylib.Cache.update,"
        "Mylib__Pool",
        "functions or modules during which, callees included, a fiber is never preempted", false },
      parse_critical, format_critical },
    { { "OCPREEMPT_SITES", "all", "use poll, loop or all",
        "where a preemption may land: poll sites only, also allocations that are a loop's "
        "only safe points, or every allocation too", false },
      parse_sites, format_sites },
    { { "OCPREEMPT_CHAOS", "",
        "use a seed (a whole number such as 42), optionally followed by :LIST to perform "
        "only the chaos preemptions numbered in LIST (42:3,7-9; 42: performs none); "
        "leave empty for normal mode",
        "chaos mode: preempt at seeded pseudo-random safe points instead of after a "
        "quantum (docs/ci.md)", true },
      parse_chaos, format_chaos },
    { { "OCPREEMPT_CHAOS_RATE", "64", "use a whole number from 1 to 65536",
        "chaos mode: mean number of preemptions per MiB the program allocates", true },
      parse_chaos_rate, format_chaos_rate },
    { { "OCPREEMPT_SELF_CLOCK", "0", "use 0 or 1",
        "1: a fiber that allocates checks its own deadline at allocation trips and the "
        "monitor backs off; 0: the monitor alone watches every fiber (off in chaos mode)",
        true },
      parse_self_clock, format_self_clock },
    { { "OCPREEMPT_VERIFY", "0", "use 0 or 1",
        "1: check every landing decision against a plain walk of the whole fiber and "
        "abort on the first disagreement (slow; for tests)", true },
      parse_verify, format_verify },
    { { "OCPREEMPT_ASSUME_RUNTIME", "", "use a release series such as 5.3, or leave empty",
        "run a program of an OCaml release without a runtime profile (e.g. 5.4) on this "
        "release's profile, where its DWARF and code pass every check of that profile", false },
      parse_assume_runtime, format_assume_runtime },
    { { "OCPREEMPT_ANALYSIS_CACHE", "", "use off, or an absolute folder path, or leave empty "
        "for $XDG_CACHE_HOME/ocpreempt/analysis (else ~/.cache/ocpreempt/analysis)",
        "where the start-up analysis of each program is kept, so later starts skip it", true },
      parse_analysis_cache, format_analysis_cache },
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

size_t config_option_count(void) { return OPTION_COUNT; }

const struct config_option_doc *config_option_doc(size_t index)
{
    return index < OPTION_COUNT ? &options[index].doc : NULL;
}

int config_format_option(const struct ocpreempt_config *cfg, size_t index, char *buf,
                         size_t len)
{
    if (index >= OPTION_COUNT || len == 0)
        return -1;
    return options[index].format(cfg, buf, len);
}

/* ---- error lines ------------------------------------------------------------------ */

/* Copies at most VALUE_SHOWN_MAX bytes of `s` (n bytes, or to NUL if n is SIZE_MAX) into
 * out[VALUE_SHOWN_MAX + 4], making control characters '?' and marking a cut with "...",
 * so a hostile or accidental value cannot break the one-line invariant. */
static void sanitize(const char *s, size_t n, char *out)
{
    size_t i = 0;
    for (; i < n && s[i] != '\0' && i < VALUE_SHOWN_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (i < n && s[i] != '\0') {
        /* Do not leave half a UTF-8 sequence before the "...". */
        while (i > 0 && ((unsigned char)out[i - 1] & 0xc0) == 0x80)
            i--;
        if (i > 0 && ((unsigned char)out[i - 1] & 0xc0) == 0xc0)
            i--;
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

static void bad_value(char *err, size_t errlen, const struct option *opt,
                      const char *value, const char *problem)
{
    char shown[VALUE_SHOWN_MAX + 4];
    sanitize(value, SIZE_MAX, shown);
    if (errlen > 0)
        snprintf(err, errlen, "%s=%s %s; %s", opt->doc.name, shown, problem,
                 opt->doc.accepted);
}

static const struct option *find_option(const char *name, size_t n)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strlen(options[i].doc.name) == n && memcmp(options[i].doc.name, name, n) == 0)
            return &options[i];
    return NULL;
}

static const struct retired_variable *find_retired(const char *name, size_t n)
{
    for (size_t i = 0; i < RETIRED_COUNT; i++)
        if (strlen(retired_variables[i].name) == n &&
            memcmp(retired_variables[i].name, name, n) == 0)
            return &retired_variables[i];
    return NULL;
}

/* 0 when the retired variable's value is empty or still accepted, else -1 with the line. */
static int check_retired(const struct retired_variable *r, const char *value, char *err,
                         size_t errlen)
{
    char shown[VALUE_SHOWN_MAX + 4];
    if (value == NULL || value[0] == '\0' || (r->accepted && strcmp(value, r->accepted) == 0))
        return 0;
    sanitize(value, SIZE_MAX, shown);
    if (errlen > 0)
        snprintf(err, errlen, "%s=%s %s", r->name, shown, r->problem);
    return -1;
}

static int check_retired_variables(char *err, size_t errlen)
{
    for (size_t i = 0; i < RETIRED_COUNT; i++)
        if (check_retired(&retired_variables[i], getenv(retired_variables[i].name), err,
                          errlen) != 0)
            return -1;
    return 0;
}

static bool is_reserved_name(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof reserved_names / sizeof reserved_names[0]; i++)
        if (strlen(reserved_names[i]) == n && memcmp(reserved_names[i], name, n) == 0)
            return true;
    return false;
}

/* Levenshtein distance of two short strings (each < 64 bytes), one row on the stack. */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    size_t row[64];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[nb];
}

/* The table name closest to `name` (full name, n bytes), if close enough to be a typo. */
static const char *suggest_name(const char *name, size_t n)
{
    const char *best = NULL;
    size_t best_distance = SIZE_MAX;
    const char *tail = name + ENV_PREFIX_LEN;
    size_t tail_len = n - ENV_PREFIX_LEN;
    if (tail_len >= 63)
        return NULL;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const char *known = options[i].doc.name + ENV_PREFIX_LEN;
        size_t known_len = strlen(known);
        size_t d = edit_distance(tail, tail_len, known, known_len);
        /* Short names tolerate less: "OCPREEMPT_LOGS" is LOG, "OCPREEMPT_X" is nothing. */
        size_t limit = known_len >= 6 ? 3 : 1;
        if (d <= limit && d < best_distance) {
            best = options[i].doc.name;
            best_distance = d;
        }
    }
    return best;
}

static void unknown_variable(char *err, size_t errlen, const char *name, size_t n)
{
    char shown[VALUE_SHOWN_MAX + 4];
    const char *suggestion = suggest_name(name, n);
    size_t used;
    int w;
    sanitize(name, n, shown);
    if (errlen == 0)
        return;
    if (suggestion != NULL) {
        snprintf(err, errlen, "%s is not a known variable; did you mean %s?", shown,
                 suggestion);
        return;
    }
    w = snprintf(err, errlen, "%s is not a known variable; the variables are", shown);
    used = w < 0 ? errlen : (size_t)w;
    for (size_t i = 0; i < OPTION_COUNT && used < errlen; i++) {
        w = snprintf(err + used, errlen - used, "%s %s", i ? "," : "", options[i].doc.name);
        used += w < 0 ? errlen : (size_t)w;
    }
}

static void not_ours(char *err, size_t errlen, const char *name, size_t n)
{
    char shown[VALUE_SHOWN_MAX + 4];
    sanitize(name, n, shown);
    if (errlen > 0)
        snprintf(err, errlen, "%s is not an OCPREEMPT_* variable", shown);
}

/* The first OCPREEMPT_* variable in the environment that nobody reads. 0 or -1. */
static int check_unknown_variables(char *err, size_t errlen)
{
    for (char **e = environ; e != NULL && *e != NULL; e++) {
        const char *eq;
        size_t n;
        if (strncmp(*e, ENV_PREFIX, ENV_PREFIX_LEN) != 0)
            continue;
        eq = strchr(*e, '=');
        n = eq ? (size_t)(eq - *e) : strlen(*e);
        if (find_option(*e, n) != NULL || is_reserved_name(*e, n) || find_retired(*e, n))
            continue;
        unknown_variable(err, errlen, *e, n);
        return -1;
    }
    return 0;
}

/* ---- entry points ----------------------------------------------------------------- */

void config_defaults(struct ocpreempt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->enabled = true;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        /* Cannot fail: every default is checked by tests/unit/config (config_defaults). */
        if (options[i].doc.default_text[0] != '\0')
            (void)options[i].parse(options[i].doc.default_text, cfg);
    }
}

int config_load(struct ocpreempt_config *cfg, char *err, size_t errlen)
{
    config_defaults(cfg);
    if (errlen > 0)
        err[0] = '\0';
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const char *value = getenv(options[i].doc.name);
        const char *problem;
        if (value == NULL || value[0] == '\0')
            continue;
        problem = options[i].parse(value, cfg);
        if (problem != NULL) {
            bad_value(err, errlen, &options[i], value, problem);
            cfg->enabled = false;
            return -1;
        }
    }
    if (check_retired_variables(err, errlen) != 0 || check_unknown_variables(err, errlen) != 0) {
        cfg->enabled = false;
        return -1;
    }
    return 0;
}

int config_check_value(const char *name, const char *value, char *err, size_t errlen)
{
    /* Scratch space: the caller only wants the verdict. ~13 KiB, fine off signal context. */
    struct ocpreempt_config scratch;
    size_t n = strlen(name);
    const struct option *opt = find_option(name, n);
    const char *problem;
    if (errlen > 0)
        err[0] = '\0';
    if (opt == NULL) {
        const struct retired_variable *retired = find_retired(name, n);
        if (retired)
            return check_retired(retired, value, err, errlen);
        if (strncmp(name, ENV_PREFIX, ENV_PREFIX_LEN) == 0 && is_reserved_name(name, n))
            return 0;
        if (strncmp(name, ENV_PREFIX, ENV_PREFIX_LEN) == 0)
            unknown_variable(err, errlen, name, n);
        else
            not_ours(err, errlen, name, n);
        return -1;
    }
    if (value[0] == '\0')
        return 0;
    config_defaults(&scratch);
    problem = opt->parse(value, &scratch);
    if (problem == NULL)
        return 0;
    bad_value(err, errlen, opt, value, problem);
    return -1;
}
