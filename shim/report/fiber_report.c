/* fiber_report: see fiber_report.h.
 *
 * Memory: the name table (one entry per OCaml function: its run-time entry, its display
 * name and its line) is allocated once at start-up and never freed; at exit it is read by
 * binary search. */
#define _GNU_SOURCE
#include "fiber_report.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code_owner.h"
#include "fiber_accounts.h"
#include "log.h"
#include "runtime.h"
#include "source_lines.h"
#include "stats.h"

#define TOP_FIBERS 10
#define NAME_LEN 96
#define LOCATION_LEN 64

struct function_name {
    uintptr_t entry;                    /* run-time */
    char function[NAME_LEN];            /* "Demo.tick", "Demo.(fun)" */
    char location[LOCATION_LEN];        /* "demo.ml:39", or "?" */
};

static struct function_name *names;
static size_t name_count, name_capacity;

/* ---- start-up -------------------------------------------------------------------------- */

/* "camlDemo.tick_585" -> "Demo.tick"; "camlDemo.fun_755" -> "Demo.(fun)". false: not an
 * OCaml function symbol. */
static bool display_name(const char *symbol, char *out, size_t len)
{
    if (strncmp(symbol, "caml", 4) != 0 || !strchr(symbol, '.') ||
        !(symbol[4] >= 'A' && symbol[4] <= 'Z'))
        return false;
    const char *s = symbol + 4;
    size_t n = strlen(s);
    size_t end = n;
    while (end > 0 && s[end - 1] >= '0' && s[end - 1] <= '9')
        end--;
    if (end < n && end > 0 && s[end - 1] == '_')     /* the stamp */
        n = end - 1;
    const char *dot = strrchr(s, '.');
    size_t unit = (size_t)(dot - s);
    if (n - unit - 1 == 3 && strncmp(dot + 1, "fun", 3) == 0)
        snprintf(out, len, "%.*s.(fun)", (int)unit, s);
    else
        snprintf(out, len, "%.*s", (int)n, s);
    return true;
}

struct collect { struct source_lines *lines; };

static int collect_function(const struct elf_symbol *sym, void *ctx)
{
    struct collect *c = ctx;
    char function[NAME_LEN];
    if (sym->kind != ELF_SYMBOL_FUNC || !display_name(sym->name, function, sizeof function))
        return 0;
    if (strstr(sym->name, ".code_begin") || strstr(sym->name, ".code_end") ||
        strstr(sym->name, ".entry"))
        return 0;
    /* Transparent code (the Stdlib, glue) never names a fiber (fiber_name.h): no line. */
    if (code_owner_of(sym->value) == OWNER_TRANSPARENT)
        return 0;
    if (name_count == name_capacity) {
        size_t cap = name_capacity ? name_capacity * 2 : 1024;
        struct function_name *grown = realloc(names, cap * sizeof *grown);
        if (!grown)
            return 1;
        names = grown;
        name_capacity = cap;
    }
    struct function_name *f = &names[name_count++];
    f->entry = ocaml_rt.bias + sym->value;
    snprintf(f->function, sizeof f->function, "%s", function);
    if (!c->lines || source_lines_at(c->lines, sym->value, f->location, sizeof f->location))
        snprintf(f->location, sizeof f->location, "?");
    return 0;
}

static int by_entry(const void *a, const void *b)
{
    uintptr_t x = ((const struct function_name *)a)->entry;
    uintptr_t y = ((const struct function_name *)b)->entry;
    return x < y ? -1 : x > y;
}

void fiber_report_prepare(const struct elf_image *img)
{
    uint64_t t0 = monotonic_ns();
    struct collect c = { source_lines_open(img) };
    elf_image_each_symbol(img, collect_function, &c);
    source_lines_close(c.lines);
    if (name_count)
        qsort(names, name_count, sizeof *names, by_entry);
    log_debug("fiber names: %zu OCaml functions named in %llu us", name_count,
              (unsigned long long)((monotonic_ns() - t0) / 1000));
}

/* ---- exit -------------------------------------------------------------------------------- */

void fiber_report_name(uintptr_t name, const char **function, const char **location)
{
    *function = "?";
    *location = "?";
    size_t lo = 0, hi = name_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (names[mid].entry < name)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < name_count && names[lo].entry == name) {
        *function = names[lo].function;
        *location = names[lo].location;
    }
}


/* The skip_* counters, in stats.h's order, without their prefix. */
static const char *const refusal_names[FIBER_REFUSAL_KINDS] = {
    "main_fiber", "not_safepoint", "denied", "extent", "callback", "unwalkable",
    "site_policy", "bad_shape", "in_yield", "mutex", "unhandled", "heap_full", "memprof",
    "no_stack", "not_ready", "switched",
};
_Static_assert(sizeof refusal_names / sizeof *refusal_names == FIBER_REFUSAL_KINDS,
               "one name per refusal counter");

const char *fiber_report_refusal_name(uint32_t verdict)
{
    int kind = (int)verdict - 1 - FIBER_REFUSAL_FIRST;
    if (verdict == FIBER_EVENT_PREEMPTED)
        return "none";
    return kind >= 0 && kind < FIBER_REFUSAL_KINDS ? refusal_names[kind] : "other";
}

/* The groups to show: every group with a run or a verdict, by longest run, at most max. */
static size_t top_groups(const struct fiber_group **out, size_t max)
{
    size_t count, n = 0;
    const struct fiber_group *g = fiber_accounts_groups(&count);
    for (size_t i = 0; i < count; i++) {
        const struct fiber_tally *t = &g[i].tally;
        if (!t->runs && !t->preemptions && !t->refusals)
            continue;
        size_t at = n < max ? n++ : max;          /* insertion into the sorted top */
        while (at > 0 && out[at - 1]->tally.longest_ticks < t->longest_ticks) {
            if (at < max)
                out[at] = out[at - 1];
            at--;
        }
        if (at < max)
            out[at] = &g[i];
    }
    return n;
}

static void group_label(const struct fiber_group *g, const char **function, const char **location)
{
    if (g->name) {
        fiber_report_name(g->name, function, location);
        return;
    }
    size_t count;
    *function = g == fiber_accounts_groups(&count) + FIBER_GROUP_UNNAMED ? "(unnamed)"
                                                                         : "(untracked)";
    *location = "?";
}

/* What both formats show: the top groups and the accounting's losses. */
struct fiber_view {
    const struct fiber_group *top[TOP_FIBERS];
    size_t n;
    struct fiber_accounts_losses loss;
};

static void take_view(struct fiber_view *v)
{
    v->n = top_groups(v->top, TOP_FIBERS);
    fiber_accounts_losses(&v->loss);
}

void fiber_report_text(struct report_out *o)
{
    if (!fiber_log_enabled)
        return;
    struct fiber_view v;
    take_view(&v);
    const struct fiber_accounts_losses *loss = &v.loss;
    report_put(o, "ocpreempt: fibers by longest run (a run: switch to switch, wall time; "
            "runs lost %lu, events lost %lu, untracked fibers %lu", loss->runs_lost,
               loss->events_lost, loss->fibers_untracked);
    if (loss->threads_unread)
        report_put(o, ", exited threads unread %lu", loss->threads_unread);
    report_put(o, "):\n");
    for (size_t i = 0; i < v.n; i++) {
        const struct fiber_group *g = v.top[i];
        const struct fiber_tally *t = &g->tally;
        const char *function, *location;
        group_label(g, &function, &location);
        report_put(o, "ocpreempt: %5lu fiber%s  longest %8.3fms  total %9.3fms  runs %6lu  "
                "preempted %5lu  refused %lu", g->fibers, g->fibers == 1 ? " " : "s",
            (double)stats_ticks_to_ns(t->longest_ticks) / 1e6,
            (double)stats_ticks_to_ns(t->total_ticks) / 1e6, t->runs, t->preemptions,
            t->refusals);
        const char *sep = " (";
        for (int k = 0; k < FIBER_REFUSAL_KINDS; k++)
            if (t->refused[k]) {
                report_put(o, "%s%s %lu", sep, refusal_names[k], t->refused[k]);
                sep = ", ";
            }
        report_put(o, "%s  %s %s\n", t->refusals ? ")" : "", function, location);
    }
}


void fiber_report_json(struct report_out *o)
{
    if (!fiber_log_enabled)
        return;
    struct fiber_view v;
    take_view(&v);
    const struct fiber_accounts_losses *loss = &v.loss;
    report_put(o, ",\"fiber_accounting\":{\"runs_lost\":%lu,\"events_lost\":%lu,"
            "\"fibers_untracked\":%lu,\"exited_threads_unread\":%lu},\"fibers\":[",
        loss->runs_lost, loss->events_lost, loss->fibers_untracked, loss->threads_unread);
    for (size_t i = 0; i < v.n; i++) {
        const struct fiber_group *g = v.top[i];
        const struct fiber_tally *t = &g->tally;
        const char *function, *location;
        group_label(g, &function, &location);
        report_put(o, "%s{\"function\":", i ? "," : "");
        report_json_string(o, function);
        report_put(o, ",\"location\":");
        report_json_string(o, location);
        report_put(o, ",\"fibers\":%lu,\"runs\":%lu,\"longest_run_ns\":%llu,\"total_run_ns\":%llu,"
                "\"preemptions\":%lu,\"refusals\":%lu,\"refused\":{", g->fibers, t->runs,
            (unsigned long long)stats_ticks_to_ns(t->longest_ticks),
            (unsigned long long)stats_ticks_to_ns(t->total_ticks), t->preemptions,
            t->refusals);
        const char *sep = "";
        for (int k = 0; k < FIBER_REFUSAL_KINDS; k++)
            if (t->refused[k]) {
                report_put(o, "%s\"%s\":%lu", sep, refusal_names[k], t->refused[k]);
                sep = ",";
            }
        report_put(o, "}}");
    }
    report_put(o, "]");
}
