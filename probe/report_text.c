/* report_text: the human-readable rendering of a probe_report.
 *
 * Layout: titled sections of aligned `key: value` lines, then a last line
 * `verdict: supported` or `verdict: unsupported: <reason>; <reason>`. Invariants: states
 * only what the report holds (the JSON renderer states the same facts); never decides
 * anything itself.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "probe_report.h"

#define KEY_WIDTH 22

static void section(const char *title)
{
    printf("\n%s\n", title);
}

static void kv(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void kv(const char *key, const char *fmt, ...)
{
    char label[64] = "";
    if (key[0] != '\0')                     /* continuation lines have no key */
        snprintf(label, sizeof label, "%s:", key);
    printf("  %-*s ", KEY_WIDTH, label);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static const char *yes_no(bool b)
{
    return b ? "yes" : "no";
}

static const char *kind_text(enum ocaml_binary_kind k)
{
    switch (k) {
    case OCAML_NATIVE_5: return "OCaml 5 native executable";
    case OCAML_NATIVE_4: return "OCaml 4 native executable";
    case OCAML_BYTECODE: return "OCaml bytecode executable";
    case NOT_OCAML: return "not OCaml";
    }
    return "?";
}

static void print_binary(const struct probe_report *r)
{
    section("Binary");
    kv("file", "%s", r->path);
    kv("kind", "%s", kind_text(r->info.kind));
    if (r->bytecode_magic[0])
        kv("bytecode magic", "%s", r->bytecode_magic);
    if (!r->is_elf)
        return;
    if (r->info.kind == OCAML_NATIVE_5 || r->info.kind == OCAML_NATIVE_4) {
        kv("version", "%s", r->info.version[0] ? r->info.version : "unknown (no Stdlib.Sys data)");
        kv("runtime variant", "%s", ocaml_runtime_variant_name(r->info.variant));
        kv("frame pointers", "%s", yes_no(r->info.frame_pointers));
        kv("systhreads", "%s", yes_no(r->info.has_systhreads));
    }
    kv("PIE", "%s", yes_no(r->pie));
    kv("linking", "%s", r->dynamic ? "dynamic (LD_PRELOAD applies)"
                                    : "static (LD_PRELOAD does not apply)");
    if (r->dynamic && r->info.kind == OCAML_NATIVE_5)
        kv("runtime exported", "%s", yes_no(r->runtime_exported));
    kv("symbols", "%s", r->has_symtab ? ".symtab" : "stripped (.dynsym only)");
    kv("DWARF", "%s", yes_no(r->has_dwarf));
}

/* One struct of the layout, LAYOUT_FIELDS_PER_LINE "name offset" pairs a line. */
#define LAYOUT_FIELDS_PER_LINE 4
static void print_layout_struct(const struct runtime_layout *l, enum layout_struct owner)
{
    char line[256];
    size_t used = 0;
    int on_line = 0;
    const char *label = runtime_layout_struct_names[owner];
    for (const struct layout_field *f = runtime_layout_fields; f->name != NULL; f++) {
        if (f->owner != owner)
            continue;
        size_t v = runtime_layout_get(l, f);
        char value[32];
        if (v == (size_t)-1)
            snprintf(value, sizeof value, "absent");
        else
            snprintf(value, sizeof value, "%zu", v);
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%s %s",
                                 on_line ? ", " : "", f->name, value);
        if (++on_line == LAYOUT_FIELDS_PER_LINE) {
            kv(label, "%s", line);
            label = "";
            used = 0;
            on_line = 0;
        }
    }
    if (on_line)
        kv(label, "%s", line);
}

/* The release profile: which, how it was matched, the checks, the shutdown notice. */
static void print_profile(const struct probe_report *r)
{
    if (!r->profile_attempted || r->profile.profile == NULL)
        return;
    const struct runtime_profile *p = r->profile.profile;
    section("Runtime profile");
    if (r->profile_selected)
        kv("profile", "OCaml %s (%s%s)", p->series, profile_match_name(r->profile.match),
           r->profile.match == PROFILE_ASSUMED ? ": OCPREEMPT_ASSUME_RUNTIME" : "");
    else
        kv("profile", "none for this release; nearest OCaml %s (the checks below are "
           "what a port must change: docs/porting.md)", p->series);
    kv("frame-table ABI", "caml_frame_descrs %s, %s",
       p->frame_descrs == FRAME_DESCRS_BY_POINTER ? "by pointer" : "by value",
       p->registration == REGISTER_ONE_TABLE ? "caml_register_frametable"
                                              : "caml_register_frametables");
    kv("memprof sampling", "%s", p->memprof_sampling ? "yes" : "compiled out");
    if (!r->checks_ran)
        return;
    kv("checks", "%zu passed, %zu failed%s", r->checks.passed, r->checks.failed,
       r->checks.dwarf ? "" : " (no DWARF: layout and ABI not checked)");
    for (size_t i = 0; i < r->checks.failed && i < PROFILE_CHECK_MAX; i++)
        kv(i == 0 ? "failed checks" : "", "%s", r->checks.failures[i]);
    kv("shutdown notice", "%s", r->shutdown_notice.why);
}

static void print_layout(const struct probe_report *r)
{
    if (!r->layout_attempted)
        return;
    const struct runtime_layout *l = &r->layout;
    if (!r->layout_ok) {
        section("Runtime layout");
        kv("error", "%s", r->layout_error);
        return;
    }
    if (l->source == LAYOUT_FROM_DWARF)
        section("Runtime layout (from DWARF)");
    else
        printf("\nRuntime layout (built-in table for OCaml %s: no runtime DWARF)\n",
               l->builtin_name);
    for (int owner = 0; owner < LAYOUT_STRUCT_COUNT; owner++)
        print_layout_struct(l, (enum layout_struct)owner);
}

static void print_shapes(const char *key, size_t total, const size_t shapes[CENSUS_SHAPES])
{
    kv(key, "%zu (call-gc-then-jmp %zu, call-allocN %zu, unrecognised %zu)", total,
       shapes[SHAPE_CALL_GC_THEN_JMP], shapes[SHAPE_CALL_ALLOCN], shapes[SHAPE_UNRECOGNISED]);
}

static void print_census(const struct probe_report *r)
{
    if (!r->census_attempted)
        return;
    section("Frame tables");
    if (!r->census_ok) {
        kv("error", "%s", r->census_error);
        return;
    }
    const struct census *c = &r->census;
    kv("modules", "%zu", c->modules);
    kv("descriptors", "%zu (%zu with debug info)", c->descriptors, c->with_debuginfo);
    kv("return-to-C", "%zu", c->return_to_c);
    kv("call sites", "%zu", c->calls);
    print_shapes("poll sites", c->polls, c->poll_shapes);
    print_shapes("allocation sites", c->allocs, c->alloc_shapes);
    size_t all = census_safepoints(c);
    if (all > 0)
        kv("recognised shape", "%zu of %zu (%.1f%%)", census_recognised(c), all,
           100.0 * (double)census_recognised(c) / (double)all);
    for (size_t i = 0; i < c->example_count; i++) {
        const struct census_site *s = &c->examples[i];
        char bytes[32] = "unreadable";
        if (s->code_readable)
            snprintf(bytes, sizeof bytes, "%02x %02x %02x %02x %02x | %02x %02x", s->code[0],
                     s->code[1], s->code[2], s->code[3], s->code[4], s->code[5], s->code[6]);
        kv(i == 0 ? "unrecognised" : "", "0x%" PRIx64 " %s in %s: %s", s->retaddr,
           safepoint_kind_name(s->kind), s->function[0] ? s->function : "?", bytes);
    }
}

static void print_candidate(const char *key, const struct yield_candidate *c)
{
    kv(key, "%s at 0x%" PRIx64 "%s%s%s", c->code_symbol, c->code_addr,
       c->location[0] ? " (" : "", c->location, c->location[0] ? ")" : "");
    char closure[64] = "none found";
    if (c->static_closure)
        snprintf(closure, sizeof closure, "0x%" PRIx64, c->static_closure);
    char field[OCAML_SYMBOL_MAX + 32] = "not a field of the module block";
    if (c->module_field >= 0)
        snprintf(field, sizeof field, "field %d of %s", c->module_field, c->module_symbol);
    char place[64];
    yield_candidate_place(c, place, sizeof place);
    kv("", "static closure %s, %s (%s)", closure, field, place);
}

static void print_match(const char *key, const struct yield_match *m)
{
    size_t shown = m->count < YIELD_MAX_CANDIDATES ? m->count : YIELD_MAX_CANDIDATES;
    for (size_t i = 0; i < shown; i++) {
        char label[OCAML_SYMBOL_MAX + 32];
        snprintf(label, sizeof label, "%s", i == 0 ? key : "");
        print_candidate(label, &m->candidates[i]);
    }
    if (m->count > shown)
        kv("", "... and %zu more", m->count - shown);
}

/* The rule's decision (yield_report_choice), the one the shim will follow. */
static void print_choice(const struct probe_report *r)
{
    const struct yield_candidate *c = r->yield_choice;
    if (c == NULL) {
        kv("will call", "nothing (see the verdict)");
        return;
    }
    char place[64];
    yield_candidate_place(c, place, sizeof place);
    kv("will call", "%s = %s (%s)", r->yield_choice_path, c->code_symbol, place);
}

static void print_yield(const struct probe_report *r)
{
    if (!r->yield_attempted)
        return;
    const struct yield_report *y = &r->yield;
    section("Yield function");
    if (y->requested) {
        kv("requested", "%s", y->request.path);
        if (y->error[0]) {
            kv("error", "%s", y->error);
            return;
        }
        if (y->request.count == 0) {
            kv("resolved", "no (no symbol matches)");
            for (size_t i = 0; i < y->near_count; i++)
                kv(i == 0 ? "near matches" : "", "%s", y->near[i]);
            if (y->near_count == 0)
                kv("near matches", "none");
            return;
        }
        kv("candidates", "%zu", y->request.count);
        print_match("symbol", &y->request);
        print_choice(r);
        return;
    }
    kv("requested", "none (auto-detect)");
    if (y->known_count == 0)
        kv("known schedulers", "none found");
    for (size_t i = 0; i < y->known_count; i++)
        print_match(y->known[i].path, &y->known[i]);
    if (y->toplevel_count == 0)
        kv("toplevel yields", "none");
    for (size_t i = 0; i < y->toplevel_count; i++)
        print_match(y->toplevel[i].path, &y->toplevel[i]);
    print_choice(r);
}

static void print_units(const char *key, const struct landing_unit *u, size_t n,
                        size_t left_out, bool lookalike)
{
    for (size_t i = 0; i < n; i++) {
        if (lookalike)
            kv(i ? "" : key, "%s (%zu site%s) is not part of %s: OCPREEMPT_DENY=+%s denies it",
               u[i].unit, u[i].sites, u[i].sites == 1 ? "" : "s", u[i].entry, u[i].unit);
        else
            kv(i ? "" : key, "%s (%zu site%s, entry %s)", u[i].unit, u[i].sites,
               u[i].sites == 1 ? "" : "s", u[i].entry);
    }
    if (left_out)
        kv("", "... and %zu more", left_out);
    if (n == 0)
        kv(key, "none");
}

static void print_extents(const struct extent_set *e)
{
    for (size_t i = 0; i < e->entry_count; i++) {
        const struct extent_entry *x = &e->entry[i];
        const char *origin = x->builtin ? "built-in" : "OCPREEMPT_CRITICAL";
        const char *key = i == 0 ? "critical extents" : "";
        if (x->units)
            kv(key, "%s: %zu unit%s (%s)", x->name, x->units, x->units > 1 ? "s" : "", origin);
        else if (x->functions)
            kv(key, "%s: %zu function%s (%s)", x->name, x->functions,
               x->functions > 1 ? "s" : "", origin);
        else
            kv(key, "%s: not in this program (%s)", x->name, origin);
    }
}

/* Sites refused because denied or critical code was inlined there, by unit. */
static void print_inlined(const struct landing_report *l)
{
    for (size_t i = 0; i < l->inlined_count; i++) {
        const struct landing_unit *u = &l->inlined[i];
        kv(i ? "" : "inlined code", "%s: %zu site%s inside inlined %s", u->unit, u->sites,
           u->sites == 1 ? "" : "s", u->entry);
    }
    if (l->inlined_left_out)
        kv("", "... and %zu more", l->inlined_left_out);
    if (l->inlined_count == 0)
        kv("inlined code", "no site inside inlined denied or critical code");
}

static void print_landing(const struct probe_report *r)
{
    if (!r->landing_attempted)
        return;
    const struct landing_report *l = &r->landing;
    section("Where preemption may land");
    if (l->config_error[0])
        kv("configuration", "refused (%s); defaults shown", l->config_error);
    if (!l->ok) {
        kv("error", "%s", l->error);
        return;
    }
    print_units("denied units", l->denied, l->denied_count, l->denied_left_out, false);
    print_units("lookalike units", l->lookalikes, l->lookalike_count, l->lookalike_left_out,
                true);
    print_extents(&l->extents);
    if (l->safepoints)
        kv("preemptible sites", "%zu of %zu (%.1f%%); denied %zu, unrecognised shape %zu, "
           "inside inlined denied code %zu, inside inlined critical code %zu",
           l->preemptible_sites, l->safepoints,
           100.0 * (double)l->preemptible_sites / (double)l->safepoints, l->denied_sites,
           l->bad_shape_sites, l->inlined_denied_sites, l->inlined_extent_sites);
    print_inlined(l);
    kv("without debuginfo", "%zu allocation sites (built without -g, or allocations the "
       "compiler made without a location) and all %zu poll sites (OCaml 5.3 records no "
       "location for a poll) of units not denied: code inlined there is judged by its "
       "own unit alone", l->no_debuginfo_sites, l->poll_sites_unjudged);
    kv("OCPREEMPT_SITES", "poll: %zu sites; loop: %zu (+%zu allocation sites that are a "
       "loop's only safe points); all: %zu", l->preemptible_poll,
       l->preemptible_poll + l->preemptible_loop_allocs, l->preemptible_loop_allocs,
       l->preemptible_poll + l->preemptible_allocs);
    kv("loop analysis", "%zu functions with allocation sites, %zu not decodable for "
       "certain (all their allocation sites kept)", l->loops.functions, l->loops.undecoded);
}

static void print_verdict(const struct probe_report *r)
{
    printf("\n");
    if (r->status == PROBE_SUPPORTED && r->profile_selected &&
        r->profile.match != PROFILE_EXACT) {
        printf("verdict: supported on the OCaml %s runtime profile (%s: its DWARF and code "
               "pass every check)\n", r->profile.profile->series,
               r->profile.match == PROFILE_ASSUMED ? "assumed, OCPREEMPT_ASSUME_RUNTIME"
                                                   : "a patch release");
        return;
    }
    if (r->status == PROBE_SUPPORTED) {
        printf("verdict: supported\n");
        return;
    }
    printf("verdict: unsupported: ");
    for (size_t i = 0; i < r->reason_count; i++)
        printf("%s%s", i ? "; " : "", r->reasons[i]);
    printf("\n");
}

void report_text(const struct probe_report *r)
{
    printf("ocpreempt-probe %s\n", OCPREEMPT_VERSION);
    print_binary(r);
    print_profile(r);
    print_layout(r);
    print_census(r);
    print_yield(r);
    print_landing(r);
    print_verdict(r);
}
