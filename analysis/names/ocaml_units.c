/* ocaml_units: see ocaml_units.h. */
#include "ocaml_units.h"

#include <ctype.h>
#include <string.h>

/* Libraries that ship units under their own name rather than wrapped as Lib__X: the real
 * unit names of the versions ocpreempt knows (Eio 1.5, Miou 0.5.5 and after 0.7.0,
 * Picos 0.6, Moonpool 0.9-0.11, Lwt 5, Saturn 0.4-1.0), the fallback that needs no debug
 * information. Each listed unit also covers its own Unit__X modules. A scheduler's list
 * also holds the mutable structures its scheduler code runs on a fiber's stack (checked in
 * their sources: Eio's waiter lists are Lwt_dllist; Picos' queues and tables retry with
 * Backoff over Multicore_magic), which are not the program's code either. */
struct library_units {
    const char *library;
    const char *const *units;
};

static const char *const eio_units[] = {
    "Eio_unix", "Eio_posix", "Eio_linux", "Eio_main", "Eio_mock", "Eio_utils",
    "Eio_runtime_events", "Eio_windows", "Lwt_dllist", "Domain_local_await", NULL };
static const char *const miou_units[] = {
    "Miou_backoff", "Miou_bitv", "Miou_fmt", "Miou_gen", "Miou_logs", "Miou_poll",
    "Miou_pqueue", "Miou_queue", "Miou_runtime_events", "Miou_sequence", "Miou_state",
    "Miou_sync", "Miou_trace", "Miou_unix", "Miou_vector", NULL };
static const char *const picos_units[] = {
    "Picos_aux_htbl", "Picos_aux_mpmcq", "Picos_aux_mpscq", "Picos_aux_rc", "Picos_domain",
    "Picos_io", "Picos_io_cohttp", "Picos_io_fd", "Picos_io_select",
    "Picos_io_thread_atomic", "Picos_lwt", "Picos_lwt_unix", "Picos_mux_fifo",
    "Picos_mux_multififo", "Picos_mux_random", "Picos_mux_thread", "Picos_std_awaitable",
    "Picos_std_event", "Picos_std_finally", "Picos_std_structured", "Picos_std_sync",
    "Picos_thread", "Picos_thread_ocaml4", "Backoff", "Multicore_magic", "Thread_table",
    "Domain_local_await", NULL };
static const char *const moonpool_units[] = {
    "Moonpool_dpool", "Moonpool_fib", "Moonpool_forkjoin", "Moonpool_lwt",
    "Moonpool_private", "Moonpool_sync", NULL };
static const char *const saturn_units[] = { "Saturn_lockfree", NULL };
static const char *const lwt_units[] = {
    "Lwt_bytes", "Lwt_condition", "Lwt_config", "Lwt_engine", "Lwt_fmt", "Lwt_gc",
    "Lwt_io", "Lwt_list", "Lwt_main", "Lwt_mutex", "Lwt_mvar", "Lwt_pool", "Lwt_pqueue",
    "Lwt_preemptive", "Lwt_process", "Lwt_result", "Lwt_seq", "Lwt_sequence",
    "Lwt_stream", "Lwt_switch", "Lwt_sys", "Lwt_throttle", "Lwt_timeout", "Lwt_unix",
    NULL };

static const struct library_units known_libraries[] = {
    { "Eio", eio_units },         { "Miou", miou_units },   { "Picos", picos_units },
    { "Moonpool", moonpool_units }, { "Saturn", saturn_units }, { "Lwt", lwt_units },
};

/* unit == name, or unit == name "__" ... (dune's alias module of a wrapped library is
 * `Name__` itself) */
static enum unit_coverage name_covers(const char *name, const char *unit, size_t len)
{
    size_t n = strlen(name);
    if (n > len || memcmp(unit, name, n) != 0)
        return UNIT_NOT_COVERED;
    if (n == len)
        return UNIT_COVERED_EXACT;
    if (len >= n + 2 && unit[n] == '_' && unit[n + 1] == '_')
        return UNIT_COVERED_WRAPPED;
    return UNIT_NOT_COVERED;
}

enum unit_coverage ocaml_unit_coverage(const char *entry, const char *unit, size_t len)
{
    enum unit_coverage c = name_covers(entry, unit, len);
    if (c != UNIT_NOT_COVERED)
        return c;
    for (size_t i = 0; i < sizeof known_libraries / sizeof known_libraries[0]; i++) {
        if (strcmp(known_libraries[i].library, entry) != 0)
            continue;
        for (const char *const *u = known_libraries[i].units; *u; u++)
            if (name_covers(*u, unit, len) != UNIT_NOT_COVERED)
                return UNIT_COVERED_KNOWN;
    }
    return UNIT_NOT_COVERED;
}

bool ocaml_unit_lookalike(const char *entry, const char *unit, size_t len)
{
    size_t n = strlen(entry);
    return n < len && memcmp(unit, entry, n) == 0 &&
           ocaml_unit_coverage(entry, unit, len) == UNIT_NOT_COVERED;
}

bool ocaml_symbol_unit(const char *symbol, const char **unit, size_t *unit_len,
                       const char **rest)
{
    if (strncmp(symbol, "caml", 4) != 0 || symbol[4] < 'A' || symbol[4] > 'Z')
        return false;
    const char *dot = strchr(symbol + 4, '.');
    if (!dot || dot[1] == '\0')
        return false;
    *unit = symbol + 4;
    *unit_len = (size_t)(dot - (symbol + 4));
    *rest = dot + 1;
    return true;
}

bool ocaml_frametable_unit(const char *symbol, const char **unit, size_t *unit_len)
{
    static const char *const suffixes[] = { ".frametable", "__frametable" };
    size_t n = strlen(symbol);
    if (strncmp(symbol, "caml", 4) != 0)
        return false;
    for (size_t i = 0; i < 2; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > 4 + k && strcmp(symbol + n - k, suffixes[i]) == 0) {
            *unit = symbol + 4;
            *unit_len = n - 4 - k;
            return true;
        }
    }
    return false;
}

bool ocaml_block_symbol_name(const char *symbol)
{
    return strncmp(symbol, "caml", 4) == 0 && isupper((unsigned char)symbol[4]) &&
           strchr(symbol, '.') == NULL && strchr(symbol, '$') == NULL;
}
