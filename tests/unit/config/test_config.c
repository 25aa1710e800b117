/* test_config: config_load() and friends against every variable's good and bad forms.
 *
 * Each subtest starts from an environment without any OCPREEMPT_* variable, sets the ones
 * it is about with setenv(), and compares whole error lines: the line shape
 * "NAME=VALUE PROBLEM; ACCEPTED" is part of the interface (users and the launcher's tests
 * read it), so a subtest fails on any change of wording that was not made on purpose.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

extern char **environ;

/* Removes every OCPREEMPT_* variable (the build may run with OCPREEMPT_CACHE set). */
static void clear_env(void)
{
    char name[256];
    for (;;) {
        char **e = environ;
        while (e && *e && strncmp(*e, "OCPREEMPT_", 10) != 0)
            e++;
        if (e == NULL || *e == NULL)
            return;
        size_t n = strcspn(*e, "=");
        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, *e, n);
        name[n] = '\0';
        unsetenv(name);
    }
}

static const char *accepted_of(const char *name)
{
    for (size_t i = 0; i < config_option_count(); i++)
        if (strcmp(config_option_doc(i)->name, name) == 0)
            return config_option_doc(i)->accepted;
    fprintf(stderr, "no option %s in the table\n", name);
    abort();
}

/* Loads with only name=value set; expects success and returns the config. */
static struct ocpreempt_config cfg;
static char err[CONFIG_ERR_MAX];

static int load_with(const char *name, const char *value)
{
    clear_env();
    if (name != NULL)
        setenv(name, value, 1);
    return config_load(&cfg, err, sizeof err);
}

#define EXPECT_OK(name, value)                                                        \
    do {                                                                              \
        int rc_ = load_with(name, value);                                             \
        if (rc_ != 0)                                                                 \
            fprintf(stderr, "%s:%d: %s=%s refused: %s\n", __FILE__, __LINE__, name,   \
                    value, err);                                                      \
        CHECK_EQ(rc_, 0);                                                             \
    } while (0)

/* A bad value: -1, and exactly "NAME=VALUE PROBLEM; ACCEPTED". */
#define EXPECT_BAD(name, value, problem)                                              \
    do {                                                                              \
        char expected_[CONFIG_ERR_MAX];                                               \
        snprintf(expected_, sizeof expected_, "%s=%s %s; %s", name, value, problem,   \
                 accepted_of(name));                                                  \
        CHECK_EQ(load_with(name, value), -1);                                         \
        CHECK_STR(err, expected_);                                                    \
        CHECK(!cfg.enabled);                                                          \
    } while (0)

static void defaults(int argc, char **argv)
{
    char buf[8192];
    config_defaults(&cfg);
    CHECK_EQ(cfg.quantum_ns, 10000000);
    CHECK_STR(cfg.yield, "");
    CHECK(!cfg.stats);
    CHECK_STR(cfg.stats_path, "");
    CHECK_EQ(cfg.stats_format, STATS_TEXT);
    CHECK_STR(cfg.trace_path, "");
    CHECK_EQ(cfg.log, LOG_WARN);
    CHECK(!cfg.strict);
    CHECK(cfg.enabled);
    CHECK(!cfg.self_clock);             /* opt-in (issue 20: the back-off costs non-allocating fibers) */
    CHECK_EQ(cfg.deny_count, 18);
    CHECK_STR(cfg.deny[0], "Stdlib__Effect");
    CHECK_STR(cfg.deny[17], "Lwt");
    CHECK_EQ(cfg.critical_count, 0);
    CHECK_EQ(cfg.sites, SITES_ALL);
    /* Every default, printed back, is its own default text: defaults are parseable. */
    for (size_t i = 0; i < config_option_count(); i++) {
        CHECK_EQ(config_format_option(&cfg, i, buf, sizeof buf), 0);
        CHECK_STR(buf, config_option_doc(i)->default_text);
    }
    /* An environment without OCPREEMPT_* gives exactly the defaults. */
    struct ocpreempt_config expected;
    config_defaults(&expected);
    CHECK_EQ(load_with(NULL, NULL), 0);
    CHECK_STR(err, "");
    CHECK(memcmp(&cfg, &expected, sizeof cfg) == 0);
}

static void table_docs(int argc, char **argv)
{
    CHECK_EQ(config_option_count(), 18);
    CHECK(config_option_doc(config_option_count()) == NULL);
    for (size_t i = 0; i < config_option_count(); i++) {
        const struct config_option_doc *d = config_option_doc(i);
        CHECK(strncmp(d->name, "OCPREEMPT_", 10) == 0);
        CHECK(d->accepted[0] != '\0' && d->summary[0] != '\0');
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(d->name, config_option_doc(j)->name) != 0);
    }
    /* OCPREEMPT_LOG is read first: its level must be known when another error prints. */
    CHECK_STR(config_option_doc(0)->name, "OCPREEMPT_LOG");
}

static void duration_parse(int argc, char **argv)
{
    static const struct { const char *text; uint64_t ns; } good[] = {
        { "10ms", 10000000 }, { "500us", 500000 }, { "2ms", 2000000 }, { "1s", 1000000000 },
        { "100000ns", 100000 }, { "0ns", 0 }, { "007ms", 7000000 },
        { "18446744073709551615ns", UINT64_MAX },
    };
    static const char *const bad[] = {
        "", "10", "ms", "5xs", "-1ms", "+1ms", "1.5ms", " 10ms", "10ms ", "10 ms", "10MS",
        "10m", "10sec", "1us1", "18446744073709551616ns", "18446744073709552s",
    };
    uint64_t ns;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ns = 1;
        CHECK_EQ(config_parse_duration(good[i].text, &ns), 0);
        CHECK_EQ(ns, good[i].ns);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (config_parse_duration(bad[i], &ns) != -1) {
            fprintf(stderr, "duration \"%s\" accepted\n", bad[i]);
            check_failures++;
        }
    }
    CHECK_EQ(config_parse_duration(NULL, &ns), -1);
}

static void quantum_forms(int argc, char **argv)
{
    static const struct { const char *text; uint64_t ns; } good[] = {
        { "10ms", 10000000 }, { "500us", 500000 }, { "2ms", 2000000 }, { "1s", 1000000000 },
        { "100000ns", 100000 }, { "100us", 100000 }, { "10s", 10000000000ULL },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        EXPECT_OK("OCPREEMPT_QUANTUM", good[i].text);
        CHECK_EQ(cfg.quantum_ns, good[i].ns);
    }
    /* The example of the brief, verbatim. */
    CHECK_EQ(load_with("OCPREEMPT_QUANTUM", "5xs"), -1);
    CHECK_STR(err, "OCPREEMPT_QUANTUM=5xs is not a duration; use e.g. 10ms, 500us "
                   "(minimum 100us)");
    EXPECT_BAD("OCPREEMPT_QUANTUM", "10", "is not a duration");
    EXPECT_BAD("OCPREEMPT_QUANTUM", "1.5ms", "is not a duration");
    EXPECT_BAD("OCPREEMPT_QUANTUM", "-10ms", "is not a duration");
    EXPECT_BAD("OCPREEMPT_QUANTUM", "10 ms", "is not a duration");
    EXPECT_BAD("OCPREEMPT_QUANTUM", "99us", "is below the minimum 100us");
    EXPECT_BAD("OCPREEMPT_QUANTUM", "99999ns", "is below the minimum 100us");
    EXPECT_BAD("OCPREEMPT_QUANTUM", "0ms", "is below the minimum 100us");
    EXPECT_BAD("OCPREEMPT_QUANTUM", "10000000001ns", "is above the maximum 10s");
    EXPECT_BAD("OCPREEMPT_QUANTUM", "99999999999999999999s", "is not a duration");
}

/* The retired signal request path: its variables are refused with one line that says the
 * mode is gone and what to do; OCPREEMPT_REQUEST=monitor asks for what happens anyway. */
#define REQUEST_GONE                                                                      \
    "asks for a request path that no longer exists: the monitor is the only one (signal " \
    "mode was removed: its CPU-time timers fire only on the kernel's scheduler tick); "  \
    "unset OCPREEMPT_REQUEST"
#define SIGNAL_GONE                                                                       \
    "sets the signal of the removed signal mode: the monitor sends no signal; unset "    \
    "OCPREEMPT_SIGNAL"

static void retired_request(int argc, char **argv)
{
    struct ocpreempt_config expected;
    config_defaults(&expected);
    EXPECT_OK("OCPREEMPT_REQUEST", "monitor");
    CHECK(memcmp(&cfg, &expected, sizeof cfg) == 0);
    EXPECT_OK("OCPREEMPT_REQUEST", "");
    CHECK_EQ(load_with("OCPREEMPT_REQUEST", "signal"), -1);
    CHECK_STR(err, "OCPREEMPT_REQUEST=signal " REQUEST_GONE);
    CHECK(!cfg.enabled);
    CHECK_EQ(load_with("OCPREEMPT_REQUEST", "timer"), -1);
    CHECK_STR(err, "OCPREEMPT_REQUEST=timer " REQUEST_GONE);
    CHECK_EQ(load_with("OCPREEMPT_REQUEST", "Monitor"), -1);
    CHECK(!cfg.enabled);
    /* Never listed as an option (--list, --print, --help read the table). */
    for (size_t i = 0; i < config_option_count(); i++) {
        CHECK(strcmp(config_option_doc(i)->name, "OCPREEMPT_REQUEST") != 0);
        CHECK(strcmp(config_option_doc(i)->name, "OCPREEMPT_SIGNAL") != 0);
    }
    /* The launcher's per-value check says the same. */
    CHECK_EQ(config_check_value("OCPREEMPT_REQUEST", "signal", err, sizeof err), -1);
    CHECK_STR(err, "OCPREEMPT_REQUEST=signal " REQUEST_GONE);
    CHECK_EQ(config_check_value("OCPREEMPT_REQUEST", "monitor", err, sizeof err), 0);
}

static void retired_signal(int argc, char **argv)
{
    static const char *const any[] = { "SIGURG", "USR2", "23", "KILL" };
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++) {
        char expected[CONFIG_ERR_MAX];
        snprintf(expected, sizeof expected, "OCPREEMPT_SIGNAL=%s " SIGNAL_GONE, any[i]);
        CHECK_EQ(load_with("OCPREEMPT_SIGNAL", any[i]), -1);
        CHECK_STR(err, expected);
        CHECK(!cfg.enabled);
    }
    EXPECT_OK("OCPREEMPT_SIGNAL", "");
    CHECK_EQ(config_check_value("OCPREEMPT_SIGNAL", "USR2", err, sizeof err), -1);
    CHECK_STR(err, "OCPREEMPT_SIGNAL=USR2 " SIGNAL_GONE);
}

static void assume_runtime_forms(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static const char *const good[] = { "5.3", "5.2", "10.12", "" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        EXPECT_OK("OCPREEMPT_ASSUME_RUNTIME", good[i]);
        CHECK_STR(cfg.assume_runtime, good[i]);
    }
    static const char *const bad[] = { "5", "5.", ".3", "5.3.0", "5.3+", "x.y", "5 .3",
                                       "12345.12" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_BAD("OCPREEMPT_ASSUME_RUNTIME", bad[i], "is not a release series");
}

static void analysis_cache_forms(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static const char *const good[] = { "off", "/var/tmp/ocp", "/", "" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        EXPECT_OK("OCPREEMPT_ANALYSIS_CACHE", good[i]);
        CHECK_STR(cfg.analysis_cache, good[i]);
    }
    static const char *const bad[] = { "relative/dir", "OFF", "~/.cache", "./x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_BAD("OCPREEMPT_ANALYSIS_CACHE", bad[i], "is not off or an absolute path");
    /* Only the analysis's inputs are in the cache key; the cache's own place is not. */
    for (size_t i = 0; i < config_option_count(); i++) {
        const struct config_option_doc *d = config_option_doc(i);
        bool input = strcmp(d->name, "OCPREEMPT_YIELD") == 0 ||
                     strcmp(d->name, "OCPREEMPT_DENY") == 0 ||
                     strcmp(d->name, "OCPREEMPT_CRITICAL") == 0 ||
                     strcmp(d->name, "OCPREEMPT_SITES") == 0 ||
                     strcmp(d->name, "OCPREEMPT_ASSUME_RUNTIME") == 0;
        CHECK_EQ(d->analysis_free, !input);
    }
}

static void yield_forms(int argc, char **argv)
{
    static const char *const good[] = {
        "Sched.yield", "Mylib.Sched.yield", "Foo.bar'", "My_mod.f_1", "A.B.C._x",
        "Fiber__sched.yield", "Stdlib__Domain.cpu_relax",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        EXPECT_OK("OCPREEMPT_YIELD", good[i]);
        CHECK_STR(cfg.yield, good[i]);
    }
    CHECK_EQ(load_with("OCPREEMPT_YIELD", "yield"), -1);
    CHECK_STR(err, "OCPREEMPT_YIELD=yield is not a Module.function path; use a dotted OCaml "
                   "path such as Sched.yield or Mylib.Sched.yield, or leave empty to "
                   "auto-detect");
    static const char *const bad[] = {
        "Sched", "sched.yield", "Sched.", ".yield", "Sched..yield", "Sched.Yield",
        "Sched.yi-eld", "1Sched.yield", "Sched.1yield", "Sched yield", "Sched.yield.",
        "'Sched.yield", "Sched.yield()", "caml.Sched.yield",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_BAD("OCPREEMPT_YIELD", bad[i], "is not a Module.function path");
    /* Longest accepted: 255 bytes; 256 is too long for cfg.yield. */
    char name[CONFIG_NAME_MAX + 1];
    memset(name, 'a', sizeof name);
    name[0] = 'M';
    name[1] = '.';
    name[CONFIG_NAME_MAX - 1] = '\0';
    EXPECT_OK("OCPREEMPT_YIELD", name);
    name[CONFIG_NAME_MAX - 1] = 'a';
    name[CONFIG_NAME_MAX] = '\0';
    CHECK_EQ(load_with("OCPREEMPT_YIELD", name), -1);
    CHECK(strstr(err, " is too long; use a dotted OCaml path") != NULL);
}

static void stats_forms(int argc, char **argv)
{
    EXPECT_OK("OCPREEMPT_STATS", "0");
    CHECK(!cfg.stats);
    EXPECT_OK("OCPREEMPT_STATS", "1");
    CHECK(cfg.stats);
    CHECK_STR(cfg.stats_path, "");
    EXPECT_OK("OCPREEMPT_STATS", "/tmp/stats.txt");
    CHECK(cfg.stats);
    CHECK_STR(cfg.stats_path, "/tmp/stats.txt");
    EXPECT_OK("OCPREEMPT_STATS", "./1");
    CHECK_STR(cfg.stats_path, "./1");
    EXPECT_OK("OCPREEMPT_STATS_FORMAT", "text");
    CHECK_EQ(cfg.stats_format, STATS_TEXT);
    EXPECT_OK("OCPREEMPT_STATS_FORMAT", "json");
    CHECK_EQ(cfg.stats_format, STATS_JSON);
    CHECK_EQ(load_with("OCPREEMPT_STATS_FORMAT", "csv"), -1);
    CHECK_STR(err, "OCPREEMPT_STATS_FORMAT=csv is not a stats format; use text or json");
    EXPECT_BAD("OCPREEMPT_STATS_FORMAT", "JSON", "is not a stats format");
    EXPECT_OK("OCPREEMPT_TRACE_FORMAT", "text");
    CHECK_EQ(cfg.trace_format, TRACE_TEXT);
    EXPECT_OK("OCPREEMPT_TRACE_FORMAT", "chrome");
    CHECK_EQ(cfg.trace_format, TRACE_CHROME);
    CHECK_EQ(load_with("OCPREEMPT_TRACE_FORMAT", "json"), -1);
    CHECK_STR(err, "OCPREEMPT_TRACE_FORMAT=json is not a trace format; use text or chrome");

    char path[PATH_MAX + 8];
    memset(path, 'p', sizeof path);
    path[0] = '/';
    path[PATH_MAX] = '\0';   /* PATH_MAX characters: one too many for stats_path */
    CHECK_EQ(load_with("OCPREEMPT_STATS", path), -1);
    CHECK(strstr(err, " is too long for a path; use 0 (off), 1 (stderr) or a file path"));
}

static void trace_forms(int argc, char **argv)
{
    EXPECT_OK("OCPREEMPT_TRACE", "/tmp/run.trace");
    CHECK_STR(cfg.trace_path, "/tmp/run.trace");
    EXPECT_OK("OCPREEMPT_TRACE", "relative/run.trace");
    CHECK_STR(cfg.trace_path, "relative/run.trace");
    char path[PATH_MAX + 8];
    memset(path, 't', sizeof path);
    path[PATH_MAX] = '\0';
    CHECK_EQ(load_with("OCPREEMPT_TRACE", path), -1);
    CHECK(strstr(err, "OCPREEMPT_TRACE=tttt") == err);
    CHECK(strstr(err, "... is too long for a path; use a file path, or leave empty for "
                      "no trace") != NULL);
}

static void log_forms(int argc, char **argv)
{
    static const struct { const char *text; enum log_level level; } good[] = {
        { "quiet", LOG_QUIET }, { "warn", LOG_WARN }, { "info", LOG_INFO },
        { "debug", LOG_DEBUG },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        EXPECT_OK("OCPREEMPT_LOG", good[i].text);
        CHECK_EQ(cfg.log, good[i].level);
    }
    CHECK_EQ(load_with("OCPREEMPT_LOG", "verbose"), -1);
    CHECK_STR(err, "OCPREEMPT_LOG=verbose is not a log level; use quiet, warn, info or debug");
    EXPECT_BAD("OCPREEMPT_LOG", "error", "is not a log level");
    EXPECT_BAD("OCPREEMPT_LOG", "2", "is not a log level");
}

static void bool_forms(int argc, char **argv)
{
    EXPECT_OK("OCPREEMPT_STRICT", "1");
    CHECK(cfg.strict);
    EXPECT_OK("OCPREEMPT_STRICT", "0");
    CHECK(!cfg.strict);
    EXPECT_OK("OCPREEMPT_DISABLE", "1");
    CHECK(!cfg.enabled);
    EXPECT_OK("OCPREEMPT_DISABLE", "0");
    CHECK(cfg.enabled);
    EXPECT_OK("OCPREEMPT_VERIFY", "1");
    CHECK(cfg.verify);
    EXPECT_OK("OCPREEMPT_VERIFY", "0");
    CHECK(!cfg.verify);
    EXPECT_OK("OCPREEMPT_SELF_CLOCK", "0");         /* issue 20: the watcher-only path */
    CHECK(!cfg.self_clock);
    EXPECT_OK("OCPREEMPT_SELF_CLOCK", "1");
    CHECK(cfg.self_clock);
    CHECK_EQ(load_with("OCPREEMPT_STRICT", "yes"), -1);
    CHECK_STR(err, "OCPREEMPT_STRICT=yes is not 0 or 1; use 0 or 1");
    CHECK_EQ(load_with("OCPREEMPT_DISABLE", "true"), -1);
    CHECK_STR(err, "OCPREEMPT_DISABLE=true is not 0 or 1; use 0 or 1");
    static const char *const bad[] = { "2", "on", "off", "01", " 1", "-1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_BAD("OCPREEMPT_STRICT", bad[i], "is not 0 or 1");
        EXPECT_BAD("OCPREEMPT_DISABLE", bad[i], "is not 0 or 1");
        EXPECT_BAD("OCPREEMPT_VERIFY", bad[i], "is not 0 or 1");
        EXPECT_BAD("OCPREEMPT_SELF_CLOCK", bad[i], "is not 0 or 1");
    }
}

/* OCPREEMPT_CRITICAL: Module.fn or module paths, always added to the built-in extents. */
static void critical_forms(int argc, char **argv)
{
    EXPECT_OK("OCPREEMPT_CRITICAL", "Mylib.Cache.update,Mylib__Pool,Sched.run,A.B");
    CHECK_EQ(cfg.critical_count, 4);
    CHECK_STR(cfg.critical[0], "Mylib.Cache.update");
    CHECK_STR(cfg.critical[1], "Mylib__Pool");
    CHECK_STR(cfg.critical[3], "A.B");
    EXPECT_OK("OCPREEMPT_SITES", "poll");
    CHECK_EQ(cfg.sites, SITES_POLL);
    EXPECT_OK("OCPREEMPT_SITES", "loop");
    CHECK_EQ(cfg.sites, SITES_LOOP);
    EXPECT_BAD("OCPREEMPT_SITES", "Loop", "is not a site policy");
    EXPECT_OK("OCPREEMPT_CRITICAL", "A,A");      /* a repeated entry once */
    CHECK_EQ(cfg.critical_count, 1);
    EXPECT_OK("OCPREEMPT_CRITICAL", "M._f'");
    CHECK_EQ(load_with("OCPREEMPT_CRITICAL", "update"), -1);
    CHECK_STR(err, "OCPREEMPT_CRITICAL=update has an entry that is neither Module nor "
                   "Module.function; use comma-separated Module or Module.function names "
                   "such as Mylib.Cache.update,Mylib__Pool");
    EXPECT_BAD("OCPREEMPT_CRITICAL", "A,,B", "has an empty entry");
    EXPECT_BAD("OCPREEMPT_CRITICAL", "A.f.g", "has an entry that is neither Module nor Module.function");
    EXPECT_BAD("OCPREEMPT_CRITICAL", "A..f", "has an entry that is neither Module nor Module.function");
    EXPECT_BAD("OCPREEMPT_CRITICAL", "+A", "has an entry that is neither Module nor Module.function");
    EXPECT_BAD("OCPREEMPT_CRITICAL", "A B", "has an entry that is neither Module nor Module.function");
    char list[33 * 4 + 8] = "";
    size_t used = 0;
    for (int i = 0; i < CONFIG_CRITICAL_MAX; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%sM%d", i ? "," : "", i);
    EXPECT_OK("OCPREEMPT_CRITICAL", list);
    CHECK_EQ(cfg.critical_count, CONFIG_CRITICAL_MAX);
    snprintf(list + used, sizeof list - used, ",M32");
    CHECK_EQ(load_with("OCPREEMPT_CRITICAL", list), -1);
    CHECK(strstr(err, "has more than 32 entries") != NULL);
}

static void deny_forms(int argc, char **argv)
{
    EXPECT_OK("OCPREEMPT_DENY", "Mylib,Stdlib__Mutex");
    CHECK_EQ(cfg.deny_count, 2);
    CHECK_STR(cfg.deny[0], "Mylib");
    CHECK_STR(cfg.deny[1], "Stdlib__Mutex");
    EXPECT_OK("OCPREEMPT_DENY", "+Mylib,Other'");
    CHECK_EQ(cfg.deny_count, 20);
    CHECK_STR(cfg.deny[0], "Stdlib__Effect");
    CHECK_STR(cfg.deny[18], "Mylib");
    CHECK_STR(cfg.deny[19], "Other'");
    EXPECT_OK("OCPREEMPT_DENY", "+Eio");   /* already in the default list: not twice */
    CHECK_EQ(cfg.deny_count, 18);
    EXPECT_OK("OCPREEMPT_DENY", "A,A");
    CHECK_EQ(cfg.deny_count, 1);
    EXPECT_OK("OCPREEMPT_DENY", "none");
    CHECK_EQ(cfg.deny_count, 0);
    EXPECT_OK("OCPREEMPT_DENY", "None");   /* a module called None */
    CHECK_EQ(cfg.deny_count, 1);

    CHECK_EQ(load_with("OCPREEMPT_DENY", "mylib"), -1);
    CHECK_STR(err, "OCPREEMPT_DENY=mylib has an entry that is not a capitalised module name; "
                   "use comma-separated capitalised unit or library names such as "
                   "Mylib,Stdlib__Mutex; +A,B appends to the default list, none empties it");
    EXPECT_BAD("OCPREEMPT_DENY", "A,,B", "has an empty entry");
    EXPECT_BAD("OCPREEMPT_DENY", "A,", "has an empty entry");
    EXPECT_BAD("OCPREEMPT_DENY", ",A", "has an empty entry");
    EXPECT_BAD("OCPREEMPT_DENY", "+", "has an empty entry");
    EXPECT_BAD("OCPREEMPT_DENY", "++A", "has an entry that is not a capitalised module name");
    EXPECT_BAD("OCPREEMPT_DENY", "A B", "has an entry that is not a capitalised module name");
    EXPECT_BAD("OCPREEMPT_DENY", "A.B", "has an entry that is not a capitalised module name");
    EXPECT_BAD("OCPREEMPT_DENY", "camlFoo", "has an entry that is not a capitalised module name");
    EXPECT_BAD("OCPREEMPT_DENY", "A, B", "has an entry that is not a capitalised module name");

    char list[64 * 8 + 16] = "";
    size_t used = 0;
    for (int i = 0; i < CONFIG_DENY_MAX; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%sM%d", i ? "," : "", i);
    EXPECT_OK("OCPREEMPT_DENY", list);
    CHECK_EQ(cfg.deny_count, CONFIG_DENY_MAX);
    snprintf(list + used, sizeof list - used, ",M64");
    CHECK_EQ(load_with("OCPREEMPT_DENY", list), -1);
    CHECK(strstr(err, "... has more than 64 entries; use comma-separated") != NULL);
    /* +: 18 defaults + 46 fit, 47 do not. */
    used = (size_t)snprintf(list, sizeof list, "+");
    for (int i = 0; i < 46; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%sM%d", i ? "," : "", i);
    EXPECT_OK("OCPREEMPT_DENY", list);
    CHECK_EQ(cfg.deny_count, CONFIG_DENY_MAX);
    snprintf(list + used, sizeof list - used, ",M46");
    CHECK_EQ(load_with("OCPREEMPT_DENY", list), -1);

    char entry[CONFIG_DENY_ENTRY_MAX + 1];
    memset(entry, 'a', sizeof entry);
    entry[0] = 'M';
    entry[CONFIG_DENY_ENTRY_MAX - 1] = '\0';   /* 63 characters: fits */
    EXPECT_OK("OCPREEMPT_DENY", entry);
    CHECK_STR(cfg.deny[0], entry);
    entry[CONFIG_DENY_ENTRY_MAX - 1] = 'a';
    entry[CONFIG_DENY_ENTRY_MAX] = '\0';       /* 64 characters: does not */
    EXPECT_BAD("OCPREEMPT_DENY", entry, "has an entry longer than 63 characters");
}

static void empty_is_default(int argc, char **argv)
{
    struct ocpreempt_config expected;
    config_defaults(&expected);
    for (size_t i = 0; i < config_option_count(); i++) {
        EXPECT_OK(config_option_doc(i)->name, "");
        CHECK(memcmp(&cfg, &expected, sizeof cfg) == 0);
    }
}

static void unknown_variable(int argc, char **argv)
{
    CHECK_EQ(load_with("OCPREEMPT_QUANTUMM", "10ms"), -1);
    CHECK_STR(err, "OCPREEMPT_QUANTUMM is not a known variable; did you mean "
                   "OCPREEMPT_QUANTUM?");
    CHECK(!cfg.enabled);
    CHECK_EQ(load_with("OCPREEMPT_STAT", "1"), -1);
    CHECK_STR(err, "OCPREEMPT_STAT is not a known variable; did you mean OCPREEMPT_STATS?");
    CHECK_EQ(load_with("OCPREEMPT_LOGS", "1"), -1);
    CHECK_STR(err, "OCPREEMPT_LOGS is not a known variable; did you mean OCPREEMPT_LOG?");
    CHECK_EQ(load_with("OCPREEMPT_TRACEFILE", "x"), -1);
    CHECK_STR(err, "OCPREEMPT_TRACEFILE is not a known variable; the variables are "
                   "OCPREEMPT_LOG, OCPREEMPT_QUANTUM, OCPREEMPT_YIELD, OCPREEMPT_STATS, "
                   "OCPREEMPT_STATS_FORMAT, OCPREEMPT_TRACE, OCPREEMPT_TRACE_FORMAT, "
                   "OCPREEMPT_STRICT, "
                   "OCPREEMPT_DISABLE, OCPREEMPT_DENY, OCPREEMPT_CRITICAL, OCPREEMPT_SITES, "
                   "OCPREEMPT_CHAOS, OCPREEMPT_CHAOS_RATE, OCPREEMPT_SELF_CLOCK, "
                   "OCPREEMPT_VERIFY, "
                   "OCPREEMPT_ASSUME_RUNTIME, OCPREEMPT_ANALYSIS_CACHE");
    /* Even empty, a misspelt variable is reported: it shows a misunderstanding. */
    CHECK_EQ(load_with("OCPREEMPT_X", ""), -1);
    CHECK(strncmp(err, "OCPREEMPT_X is not a known variable; the variables are ", 55) == 0);
    /* The tools' own variables are not typos. */
    EXPECT_OK("OCPREEMPT_LIB", "/opt/lib/libocpreempt.so");
    EXPECT_OK("OCPREEMPT_CACHE", "/home/u/.cache/ocpreempt");
    /* Prefix only, not "contains". */
    EXPECT_OK("MY_OCPREEMPT_QUANTUM", "junk");
    EXPECT_OK("ocpreempt_quantum", "junk");
}

static void one_line_messages(int argc, char **argv)
{
    CHECK_EQ(load_with("OCPREEMPT_QUANTUM", "10\nms"), -1);
    CHECK_STR(err, "OCPREEMPT_QUANTUM=10?ms is not a duration; use e.g. 10ms, 500us "
                   "(minimum 100us)");
    CHECK_EQ(load_with("OCPREEMPT_LOG", "\tdebug\r\x1b[0m"), -1);
    CHECK_STR(err, "OCPREEMPT_LOG=?debug??[0m is not a log level; use quiet, warn, info or "
                   "debug");
    /* A long value is cut at 80 characters, then "...". */
    char value[200];
    memset(value, 'x', sizeof value);
    value[sizeof value - 1] = '\0';
    CHECK_EQ(load_with("OCPREEMPT_STATS_FORMAT", value), -1);
    char expected[CONFIG_ERR_MAX];
    snprintf(expected, sizeof expected,
             "OCPREEMPT_STATS_FORMAT=%.80s... is not a stats format; use text or json", value);
    CHECK_STR(err, expected);
    /* A cut never leaves half a UTF-8 character: "é" is 2 bytes, 79 + 2 > 80. */
    memset(value, 'x', 79);
    strcpy(value + 79, "\xc3\xa9tail");
    CHECK_EQ(load_with("OCPREEMPT_STATS_FORMAT", value), -1);
    snprintf(expected, sizeof expected,
             "OCPREEMPT_STATS_FORMAT=%.79s... is not a stats format; use text or json", value);
    CHECK_STR(err, expected);
    /* The same for a retired variable's line. */
    CHECK_EQ(load_with("OCPREEMPT_REQUEST", value), -1);
    snprintf(expected, sizeof expected, "OCPREEMPT_REQUEST=%.79s... " REQUEST_GONE, value);
    CHECK_STR(err, expected);
    /* Every line fits CONFIG_ERR_MAX, and a small buffer is cut, not overrun. */
    char small[16];
    CHECK_EQ(load_with("OCPREEMPT_QUANTUM", "5xs"), -1);
    CHECK(strlen(err) < CONFIG_ERR_MAX - 1);
    clear_env();
    setenv("OCPREEMPT_QUANTUM", "5xs", 1);
    CHECK_EQ(config_load(&cfg, small, sizeof small), -1);
    CHECK_STR(small, "OCPREEMPT_QUANT");
}

static void error_keeps_log_level(int argc, char **argv)
{
    /* The shim decides whether to print the line from cfg.log: quiet must survive. */
    clear_env();
    setenv("OCPREEMPT_LOG", "quiet", 1);
    setenv("OCPREEMPT_QUANTUM", "5xs", 1);
    CHECK_EQ(config_load(&cfg, err, sizeof err), -1);
    CHECK_EQ(cfg.log, LOG_QUIET);
    clear_env();
    setenv("OCPREEMPT_LOG", "debug", 1);
    setenv("OCPREEMPT_QUANTUMM", "1ms", 1);
    CHECK_EQ(config_load(&cfg, err, sizeof err), -1);
    CHECK_EQ(cfg.log, LOG_DEBUG);
    /* A bad level itself leaves the default, which prints errors. */
    CHECK_EQ(load_with("OCPREEMPT_LOG", "silent"), -1);
    CHECK_EQ(cfg.log, LOG_WARN);
}

static void first_error_wins(int argc, char **argv)
{
    /* Table order: QUANTUM before STATS_FORMAT; table variables before retired ones, those
       before unknown ones. */
    clear_env();
    setenv("OCPREEMPT_STATS_FORMAT", "xml", 1);
    setenv("OCPREEMPT_QUANTUM", "5xs", 1);
    setenv("OCPREEMPT_SIGNAL", "KILL", 1);
    setenv("OCPREEMPT_BOGUS", "1", 1);
    CHECK_EQ(config_load(&cfg, err, sizeof err), -1);
    CHECK(strncmp(err, "OCPREEMPT_QUANTUM=5xs ", 22) == 0);
    unsetenv("OCPREEMPT_QUANTUM");
    CHECK_EQ(config_load(&cfg, err, sizeof err), -1);
    CHECK(strncmp(err, "OCPREEMPT_STATS_FORMAT=xml ", 27) == 0);
    unsetenv("OCPREEMPT_STATS_FORMAT");
    CHECK_EQ(config_load(&cfg, err, sizeof err), -1);
    CHECK(strncmp(err, "OCPREEMPT_SIGNAL=KILL ", 22) == 0);
    unsetenv("OCPREEMPT_SIGNAL");
    CHECK_EQ(config_load(&cfg, err, sizeof err), -1);
    CHECK(strncmp(err, "OCPREEMPT_BOGUS is not a known variable", 39) == 0);
}

static void all_together(int argc, char **argv)
{
    clear_env();
    setenv("OCPREEMPT_QUANTUM", "2ms", 1);
    setenv("OCPREEMPT_REQUEST", "monitor", 1);
    setenv("OCPREEMPT_YIELD", "Sched.yield", 1);
    setenv("OCPREEMPT_STATS", "/tmp/s", 1);
    setenv("OCPREEMPT_STATS_FORMAT", "json", 1);
    setenv("OCPREEMPT_TRACE", "/tmp/t", 1);
    setenv("OCPREEMPT_LOG", "info", 1);
    setenv("OCPREEMPT_STRICT", "1", 1);
    setenv("OCPREEMPT_DISABLE", "0", 1);
    setenv("OCPREEMPT_DENY", "+Mylib", 1);
    setenv("OCPREEMPT_LIB", "/x/libocpreempt.so", 1);
    CHECK_EQ(config_load(&cfg, err, sizeof err), 0);
    CHECK_EQ(cfg.quantum_ns, 2000000);
    CHECK_STR(cfg.yield, "Sched.yield");
    CHECK(cfg.stats);
    CHECK_STR(cfg.stats_path, "/tmp/s");
    CHECK_EQ(cfg.stats_format, STATS_JSON);
    CHECK_STR(cfg.trace_path, "/tmp/t");
    CHECK_EQ(cfg.log, LOG_INFO);
    CHECK(cfg.strict);
    CHECK(cfg.enabled);
    CHECK_EQ(cfg.deny_count, 19);
}

/* config_format_option writes a form that parses back to the same configuration. */
static void format_round_trip(int argc, char **argv)
{
    static const char *const settings[][2] = {
        { "OCPREEMPT_QUANTUM", "1500us" }, { "OCPREEMPT_QUANTUM", "100000ns" },
        { "OCPREEMPT_QUANTUM", "1000ms" }, { "OCPREEMPT_QUANTUM", "123457ns" },
        { "OCPREEMPT_STATS", "1" },
        { "OCPREEMPT_STATS", "/tmp/s" }, { "OCPREEMPT_DENY", "none" },
        { "OCPREEMPT_DENY", "+Mylib" }, { "OCPREEMPT_DISABLE", "1" },
        { "OCPREEMPT_YIELD", "A.b" }, { "OCPREEMPT_LOG", "debug" },
        { "OCPREEMPT_TRACE_FORMAT", "chrome" },
    };
    static const char *const formatted[] = {
        "1500us", "100us", "1s", "123457ns", "1", "/tmp/s",
        "none", NULL, "1", "A.b", "debug", "chrome",
    };
    char buf[8192], name[64];
    for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
        struct ocpreempt_config first;
        size_t index = 0;
        EXPECT_OK(settings[s][0], settings[s][1]);
        memcpy(&first, &cfg, sizeof first);   /* bytes, padding included, for memcmp */
        while (strcmp(config_option_doc(index)->name, settings[s][0]) != 0)
            index++;
        CHECK_EQ(config_format_option(&first, index, buf, sizeof buf), 0);
        if (formatted[s] != NULL)
            CHECK_STR(buf, formatted[s]);
        snprintf(name, sizeof name, "%s", settings[s][0]);
        EXPECT_OK(name, buf);
        CHECK(memcmp(&cfg, &first, sizeof cfg) == 0);
    }
    /* Too small a buffer is an error, not a cut value. */
    config_defaults(&cfg);
    CHECK_EQ(config_format_option(&cfg, 9, buf, 16), -1);      /* OCPREEMPT_DENY */
    CHECK_EQ(config_format_option(&cfg, 99, buf, sizeof buf), -1);
}

static void check_value(int argc, char **argv)
{
    clear_env();
    /* Judged alone: a bad variable in the environment does not matter here. */
    setenv("OCPREEMPT_QUANTUM", "5xs", 1);
    CHECK_EQ(config_check_value("OCPREEMPT_QUANTUM", "2ms", err, sizeof err), 0);
    CHECK_STR(err, "");
    CHECK_EQ(config_check_value("OCPREEMPT_QUANTUM", "5xs", err, sizeof err), -1);
    CHECK_STR(err, "OCPREEMPT_QUANTUM=5xs is not a duration; use e.g. 10ms, 500us "
                   "(minimum 100us)");
    CHECK_EQ(config_check_value("OCPREEMPT_DENY", "+Mylib", err, sizeof err), 0);
    CHECK_EQ(config_check_value("OCPREEMPT_TRACE", "", err, sizeof err), 0);
    CHECK_EQ(config_check_value("OCPREEMPT_LIB", "anything", err, sizeof err), 0);
    CHECK_EQ(config_check_value("OCPREEMPT_QUANTA", "1ms", err, sizeof err), -1);
    CHECK_STR(err, "OCPREEMPT_QUANTA is not a known variable; did you mean OCPREEMPT_QUANTUM?");
    CHECK_EQ(config_check_value("PATH", "/bin", err, sizeof err), -1);
    CHECK_STR(err, "PATH is not an OCPREEMPT_* variable");
}

static void chaos_forms(int argc, char **argv)
{
    char buf[256];
    size_t chaos = config_option_count();
    for (size_t i = 0; i < config_option_count(); i++)
        if (strcmp(config_option_doc(i)->name, "OCPREEMPT_CHAOS") == 0)
            chaos = i;
    CHECK(chaos < config_option_count());
    config_defaults(&cfg);
    CHECK(!cfg.chaos);
    CHECK_EQ(cfg.chaos_rate, 64);
    EXPECT_OK("OCPREEMPT_CHAOS", "42");
    CHECK(cfg.chaos);
    CHECK_EQ(cfg.chaos_seed, 42);
    CHECK(!cfg.chaos_listed);
    EXPECT_OK("OCPREEMPT_CHAOS", "18446744073709551615");
    CHECK_EQ(cfg.chaos_seed, UINT64_MAX);
    EXPECT_OK("OCPREEMPT_CHAOS", "7:3,5-9,12");
    CHECK(cfg.chaos_listed);
    CHECK_EQ(cfg.chaos_range_count, 3);
    CHECK_EQ(cfg.chaos_ranges[1].first, 5);
    CHECK_EQ(cfg.chaos_ranges[1].last, 9);
    CHECK_EQ(config_format_option(&cfg, chaos, buf, sizeof buf), 0);
    CHECK_STR(buf, "7:3,5-9,12");
    EXPECT_OK("OCPREEMPT_CHAOS", "7:");             /* none performed */
    CHECK(cfg.chaos_listed);
    CHECK_EQ(cfg.chaos_range_count, 0);
    CHECK_EQ(config_format_option(&cfg, chaos, buf, sizeof buf), 0);
    CHECK_STR(buf, "7:");
    EXPECT_BAD("OCPREEMPT_CHAOS", "x", "is not a seed");
    EXPECT_BAD("OCPREEMPT_CHAOS", "-1", "is not a seed");
    EXPECT_BAD("OCPREEMPT_CHAOS", "18446744073709551616", "is not a seed");
    EXPECT_BAD("OCPREEMPT_CHAOS", ":3", "is not a seed");
    EXPECT_BAD("OCPREEMPT_CHAOS", "7:0", "has a preemption list entry that is not N or N-M (N >= 1)");
    EXPECT_BAD("OCPREEMPT_CHAOS", "7:5-3", "has a preemption list entry that is not N or N-M (N >= 1)");
    EXPECT_BAD("OCPREEMPT_CHAOS", "7:1,,2", "has a preemption list entry that is not N or N-M (N >= 1)");
    EXPECT_BAD("OCPREEMPT_CHAOS", "7:4,2", "has a preemption list that is not ascending");
    EXPECT_BAD("OCPREEMPT_CHAOS", "7:1-4,4", "has a preemption list that is not ascending");
    EXPECT_OK("OCPREEMPT_CHAOS_RATE", "1");
    CHECK_EQ(cfg.chaos_rate, 1);
    EXPECT_OK("OCPREEMPT_CHAOS_RATE", "65536");
    EXPECT_BAD("OCPREEMPT_CHAOS_RATE", "0", "is out of range");
    EXPECT_BAD("OCPREEMPT_CHAOS_RATE", "65537", "is out of range");
    EXPECT_BAD("OCPREEMPT_CHAOS_RATE", "1k", "is not a whole number");
}

static const struct subtest tests[] = {
    { "defaults", defaults },
    { "table_docs", table_docs },
    { "duration_parse", duration_parse },
    { "quantum_forms", quantum_forms },
    { "retired_request", retired_request },
    { "retired_signal", retired_signal },
    { "yield_forms", yield_forms },
    { "assume_runtime_forms", assume_runtime_forms },
    { "analysis_cache_forms", analysis_cache_forms },
    { "stats_forms", stats_forms },
    { "trace_forms", trace_forms },
    { "log_forms", log_forms },
    { "bool_forms", bool_forms },
    { "deny_forms", deny_forms },
    { "critical_forms", critical_forms },
    { "empty_is_default", empty_is_default },
    { "unknown_variable", unknown_variable },
    { "one_line_messages", one_line_messages },
    { "error_keeps_log_level", error_keeps_log_level },
    { "first_error_wins", first_error_wins },
    { "all_together", all_together },
    { "format_round_trip", format_round_trip },
    { "check_value", check_value },
    { "chaos_forms", chaos_forms },
    { NULL, NULL },
};

int main(int argc, char **argv)
{
    return run_subtests(argc, argv, tests);
}
