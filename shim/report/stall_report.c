/* stall_report: see stall_report.h. The C functions are listed by total time, most first
 * (at most STALL_FUNCTIONS_MAX: a selection sort over the static table), those with a
 * stretch of at least two quanta only (ranked()), and so are the refusal reasons. */
#include "stall_report.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "shim_state.h"
#include "site_table.h"
#include "stall_stats.h"

static const char *const counter_names[STATS_COUNTER_COUNT] = {
#define COUNTER_NAME(name) #name,
    STATS_COUNTERS(COUNTER_NAME)
#undef COUNTER_NAME
};


/* "camlC_stall.spin_c_273" -> "C_stall.spin_c", "camlLib__Mod.f_12" -> "Lib.Mod.f": the
 * OCaml name of a symbol (anything else unchanged). */
static void ocaml_name(const char *symbol, char *out, size_t len)
{
    size_t n = 0;
    const char *s = strncmp(symbol, "caml", 4) == 0 && symbol[4] >= 'A' && symbol[4] <= 'Z'
                        ? symbol + 4 : symbol;
    const char *end = s + strlen(s), *stamp = end;
    if (s != symbol) {
        while (stamp > s && stamp[-1] >= '0' && stamp[-1] <= '9')
            stamp--;
        if (stamp > s && stamp < end && stamp[-1] == '_')
            end = stamp - 1;
    }
    for (; s < end && n + 1 < len; s++) {
        if (s != symbol && s[0] == '_' && s[1] == '_' && s + 1 < end) {
            out[n++] = '.';
            s++;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
}

static const char *entry_name(uint8_t entry)
{
    return entry == STALL_EXTERNAL ? "external" : entry == STALL_NOALLOC ? "noalloc" : "";
}

/* The slots in use, by total time, most first; returns how many. A slot whose longest
 * stretch is shorter than two quanta is left out: a stretch is counted from a request
 * still pending at the next look, which may also be a thread the kernel descheduled right
 * after the request (next to no CPU time), or a request lost to a young_limit reset (the
 * OCaml code runs on until the next look, Q + grace: stall_watch.h); neither makes a
 * stretch of two quanta, which a C call of three quanta does. */
#define LISTED_STRETCH_QUANTA 2

static size_t ranked(size_t *order)
{
    bool taken[STALL_FUNCTIONS_MAX] = { false };
    for (size_t i = 0; i < STALL_FUNCTIONS_MAX; i++)
        taken[i] = stall_functions[i].longest_ns <
                   LISTED_STRETCH_QUANTA * shim_config.quantum_ns;
    size_t n = 0;
    for (;;) {
        size_t best = STALL_FUNCTIONS_MAX;
        for (size_t i = 0; i < STALL_FUNCTIONS_MAX; i++)
            if (!taken[i] && stall_functions[i].total_ns > 0 &&
                (best == STALL_FUNCTIONS_MAX ||
                 stall_functions[i].total_ns > stall_functions[best].total_ns))
                best = i;
        if (best == STALL_FUNCTIONS_MAX)
            return n;
        taken[best] = true;
        order[n++] = best;
    }
}

/* The longest stretch of refusals for reason c, if listed (as ranked(): two quanta). */
static uint64_t listed_refusal(int c)
{
    uint64_t ns = atomic_load(&stall_refused_longest_ns[c]);
    return ns >= LISTED_STRETCH_QUANTA * shim_config.quantum_ns ? ns : 0;
}

static void names_of(const struct stall_function *f, const char **function, char *caller,
                     size_t caller_len)
{
    *function = f->function ? site_table_function_name(f->function, NULL) : "";
    if (f->function && strcmp(*function, "?") == 0)
        *function = "(outside the executable)";
    ocaml_name(f->caller ? site_table_function_name(f->caller, NULL) : "?", caller, caller_len);
}

void stall_report_text(struct report_out *o)
{
    size_t order[STALL_FUNCTIONS_MAX], n = ranked(order);
    bool refused = false;
    for (int c = 0; c < STATS_COUNTER_COUNT; c++)
        refused |= listed_refusal(c) > 0;
    report_put(o, "ocpreempt: time where no preemption could help (CPU time of runs past"
                        " the quantum):%s\n", n || refused ? "" : " none");
    for (size_t k = 0; k < n; k++) {
        const struct stall_function *f = &stall_functions[order[k]];
        const char *function;
        char caller[128];
        names_of(f, &function, caller, sizeof caller);
        if (f->function)
            report_put(o, "ocpreempt:   in C %s (%s, called from %s): %.1fms, longest "
                                "%.1fms, %lu run%s\n", function, entry_name(f->entry), caller,
                (double)f->total_ns / 1e6, (double)f->longest_ns / 1e6, f->stretches,
                f->stretches == 1 ? "" : "s");
        else
            report_put(o, "ocpreempt:   in C the shim cannot name (the runtime, or a "
                                "call it cannot decode): %.1fms, longest %.1fms, %lu run%s\n",
                (double)f->total_ns / 1e6, (double)f->longest_ns / 1e6, f->stretches,
                f->stretches == 1 ? "" : "s");
    }
    for (int c = 0; c < STATS_COUNTER_COUNT; c++) {
        uint64_t ns = listed_refusal(c);
        if (ns)
            report_put(o, "ocpreempt:   refused (%s): longest stretch %.1fms\n",
                counter_names[c] + 5, (double)ns / 1e6);
    }
}

void stall_report_json(struct report_out *o)
{
    size_t order[STALL_FUNCTIONS_MAX], n = ranked(order);
    report_put(o, "\"no_preemption_could_help\":{\"in_c\":[");
    for (size_t k = 0; k < n; k++) {
        const struct stall_function *f = &stall_functions[order[k]];
        const char *function;
        char caller[128];
        names_of(f, &function, caller, sizeof caller);
        report_put(o, "%s{\"function\":", k ? "," : "");
        if (f->function)
            report_json_string(o, function);
        else
            report_put(o, "null");
        report_put(o, ",\"entry\":\"%s\",\"caller\":",
            f->function ? entry_name(f->entry) : "unnamed");
        if (f->function)
            report_json_string(o, caller);
        else
            report_put(o, "null");
        report_put(o, ",\"total_ns\":%llu,\"longest_ns\":%llu,\"runs\":%lu}",
            (unsigned long long)f->total_ns, (unsigned long long)f->longest_ns, f->stretches);
    }
    report_put(o, "],\"refused_longest_stretch_ns\":{");
    bool first = true;
    for (int c = 0; c < STATS_COUNTER_COUNT; c++) {
        uint64_t ns = listed_refusal(c);
        if (!ns)
            continue;
        report_put(o, "%s\"%s\":%llu", first ? "" : ",", counter_names[c] + 5,
            (unsigned long long)ns);
        first = false;
    }
    report_put(o, "}}");
}
