/* report_json: the machine-readable rendering of a probe_report (keys: docs/probe.md).
 *
 * Invariants: the key set is stable: every documented key is always present, with null
 * where a fact does not apply (e.g. "layout" for a non-OCaml file); addresses are strings
 * "0x..." (JSON numbers lose precision past 2^53); sizes and counts are numbers.
 */
#include <stdio.h>

#include "json_writer.h"
#include "probe_report.h"

static const char *verdict_name(enum probe_status s)
{
    switch (s) {
    case PROBE_SUPPORTED: return "supported";
    case PROBE_UNSUPPORTED: return "unsupported";
    case PROBE_ERROR: return "error";
    }
    return "error";
}

static void optional_string(struct json_writer *w, const char *key, const char *s)
{
    json_string(w, key, s != NULL && s[0] != '\0' ? s : NULL);
}

static void write_offset(struct json_writer *w, const char *key, size_t v)
{
    if (v == (size_t)-1)
        json_null(w, key);
    else
        json_uint(w, key, v);
}

static void write_layout(struct json_writer *w, const struct probe_report *r)
{
    if (!r->layout_attempted) {
        json_null(w, "layout");
        return;
    }
    const struct runtime_layout *l = &r->layout;
    json_begin_object(w, "layout");
    if (!r->layout_ok) {
        json_null(w, "source");
        json_null(w, "builtin_version");
        json_string(w, "error", r->layout_error);
        json_end_object(w);
        return;
    }
    json_string(w, "source", l->source == LAYOUT_FROM_DWARF ? "dwarf" : "builtin");
    json_string(w, "builtin_version", l->source == LAYOUT_BUILTIN ? l->builtin_name : NULL);
    json_null(w, "error");
    static const char *const json_keys[LAYOUT_STRUCT_COUNT] = {
        "domain_state", "stack_info", "stack_handler", "c_stack_link",
    };
    for (int owner = 0; owner < LAYOUT_STRUCT_COUNT; owner++) {
        json_begin_object(w, json_keys[owner]);
        for (const struct layout_field *f = runtime_layout_fields; f->name != NULL; f++)
            if ((int)f->owner == owner)
                write_offset(w, f->name, runtime_layout_get(l, f));
        json_end_object(w);
    }
    json_end_object(w);
}

static void write_shapes(struct json_writer *w, const char *key, const size_t s[CENSUS_SHAPES])
{
    json_begin_object(w, key);
    json_uint(w, "call_gc_then_jmp", s[SHAPE_CALL_GC_THEN_JMP]);
    json_uint(w, "call_allocN", s[SHAPE_CALL_ALLOCN]);
    json_uint(w, "unrecognised", s[SHAPE_UNRECOGNISED]);
    json_end_object(w);
}

static void write_example(struct json_writer *w, const struct census_site *s)
{
    json_begin_object(w, NULL);
    json_hex(w, "retaddr", s->retaddr);
    json_string(w, "kind", safepoint_kind_name(s->kind));
    optional_string(w, "function", s->function);
    if (s->code_readable) {
        char hex[32];
        for (int i = 0; i < 7; i++)
            snprintf(hex + 2 * i, sizeof hex - 2 * (size_t)i, "%02x", s->code[i]);
        json_string(w, "code", hex);
    } else {
        json_null(w, "code");
    }
    json_end_object(w);
}

static void write_census(struct json_writer *w, const struct probe_report *r)
{
    if (!r->census_attempted) {
        json_null(w, "census");
        return;
    }
    const struct census *c = &r->census;
    json_begin_object(w, "census");
    optional_string(w, "error", r->census_ok ? NULL : r->census_error);
    json_uint(w, "modules", c->modules);
    json_uint(w, "descriptors", c->descriptors);
    json_uint(w, "with_debuginfo", c->with_debuginfo);
    json_uint(w, "return_to_c", c->return_to_c);
    json_uint(w, "call_sites", c->calls);
    json_uint(w, "poll_sites", c->polls);
    json_uint(w, "alloc_sites", c->allocs);
    write_shapes(w, "poll_shapes", c->poll_shapes);
    write_shapes(w, "alloc_shapes", c->alloc_shapes);
    json_uint(w, "recognised", census_recognised(c));
    if (census_safepoints(c) > 0)
        json_double(w, "recognised_ratio",
                    (double)census_recognised(c) / (double)census_safepoints(c));
    else
        json_null(w, "recognised_ratio");
    json_begin_array(w, "unrecognised_examples");
    for (size_t i = 0; i < c->example_count; i++)
        write_example(w, &c->examples[i]);
    json_end_array(w);
    json_end_object(w);
}

static void write_candidate(struct json_writer *w, const struct yield_candidate *c)
{
    json_begin_object(w, NULL);
    json_string(w, "code_symbol", c->code_symbol);
    json_hex(w, "code_addr", c->code_addr);
    json_string(w, "module_symbol", c->module_symbol);
    if (c->module_block)
        json_hex(w, "module_block", c->module_block);
    else
        json_null(w, "module_block");
    json_uint(w, "module_block_size", c->module_block_size);
    if (c->static_closure)
        json_hex(w, "static_closure", c->static_closure);
    else
        json_null(w, "static_closure");
    if (c->module_field >= 0)
        json_int(w, "module_field", c->module_field);
    else
        json_null(w, "module_field");
    if (c->depth >= 0)
        json_int(w, "depth", c->depth);
    else
        json_null(w, "depth");
    json_int(w, "wanted_depth", c->wanted_depth);
    json_bool(w, "reexported", c->reexported);
    json_bool(w, "documented", c->documented);
    optional_string(w, "location", c->location);
    json_end_object(w);
}

static void write_candidates(struct json_writer *w, const struct yield_match *m)
{
    size_t shown = m->count < YIELD_MAX_CANDIDATES ? m->count : YIELD_MAX_CANDIDATES;
    json_uint(w, "count", m->count);
    json_begin_array(w, "candidates");
    for (size_t i = 0; i < shown; i++)
        write_candidate(w, &m->candidates[i]);
    json_end_array(w);
}

static void write_matches(struct json_writer *w, const char *key, const struct yield_match *m,
                          size_t n)
{
    json_begin_array(w, key);
    for (size_t i = 0; i < n; i++) {
        json_begin_object(w, NULL);
        json_string(w, "path", m[i].path);
        write_candidates(w, &m[i]);
        json_end_object(w);
    }
    json_end_array(w);
}

static void write_yield(struct json_writer *w, const struct probe_report *r)
{
    if (!r->yield_attempted) {
        json_null(w, "yield");
        return;
    }
    const struct yield_report *y = &r->yield;
    json_begin_object(w, "yield");
    json_string(w, "requested", y->requested ? y->request.path : NULL);
    optional_string(w, "error", y->error);
    if (y->requested) {
        write_candidates(w, &y->request);
    } else {
        json_uint(w, "count", 0);
        json_begin_array(w, "candidates");
        json_end_array(w);
    }
    json_begin_array(w, "near_matches");
    for (size_t i = 0; i < y->near_count; i++)
        json_string(w, NULL, y->near[i]);
    json_end_array(w);
    write_matches(w, "known_schedulers", y->known, y->known_count);
    write_matches(w, "toplevel_yields", y->toplevel, y->toplevel_count);
    if (r->yield_choice != NULL) {
        json_begin_object(w, "will_call");
        json_string(w, "path", r->yield_choice_path);
        json_string(w, "code_symbol", r->yield_choice->code_symbol);
        json_end_object(w);
    } else {
        json_null(w, "will_call");
    }
    json_end_object(w);
}

static void write_profile(struct json_writer *w, const struct probe_report *r)
{
    if (!r->profile_attempted || r->profile.profile == NULL) {
        json_null(w, "runtime_profile");
        return;
    }
    json_begin_object(w, "runtime_profile");
    json_string(w, "series", r->profile.profile->series);
    json_string(w, "match", r->profile_selected ? profile_match_name(r->profile.match)
                                                : "nearest");
    json_uint(w, "checks_passed", r->checks.passed);
    json_begin_array(w, "checks_failed");
    for (size_t i = 0; i < r->checks.failed && i < PROFILE_CHECK_MAX; i++)
        json_string(w, NULL, r->checks.failures[i]);
    json_end_array(w);
    json_string(w, "shutdown_notice", r->checks_ran ? r->shutdown_notice.why : NULL);
    json_end_object(w);
}

static void write_binary(struct json_writer *w, const struct probe_report *r)
{
    bool ocaml_native = r->info.kind == OCAML_NATIVE_5 || r->info.kind == OCAML_NATIVE_4;
    bool analysed = r->elf_opened || !r->is_elf;     /* an ELF we read, or a bytecode script */
    json_bool(w, "elf", r->elf_opened);
    json_string(w, "kind", analysed ? ocaml_binary_kind_name(r->info.kind) : NULL);
    optional_string(w, "bytecode_magic", r->bytecode_magic);
    optional_string(w, "version", ocaml_native ? r->info.version : NULL);
    json_string(w, "runtime_variant",
                ocaml_native ? ocaml_runtime_variant_name(r->info.variant) : NULL);
    if (ocaml_native) {
        json_bool(w, "frame_pointers", r->info.frame_pointers);
        json_bool(w, "systhreads", r->info.has_systhreads);
    } else {
        json_null(w, "frame_pointers");
        json_null(w, "systhreads");
    }
    json_bool(w, "pie", r->pie);
    if (r->elf_opened)
        json_bool(w, "dynamic", r->dynamic);
    else
        json_null(w, "dynamic");
    if (r->info.kind == OCAML_NATIVE_5 && r->dynamic)
        json_bool(w, "runtime_exported", r->runtime_exported);
    else
        json_null(w, "runtime_exported");
    json_bool(w, "stripped", r->elf_opened && !r->has_symtab);
    json_bool(w, "dwarf", r->has_dwarf);
}

static void write_units(struct json_writer *w, const char *key, const struct landing_unit *u,
                        size_t n, size_t left_out)
{
    json_begin_array(w, key);
    for (size_t i = 0; i < n; i++) {
        json_begin_object(w, NULL);
        json_string(w, "unit", u[i].unit);
        json_string(w, "entry", u[i].entry);
        json_uint(w, "sites", u[i].sites);
        json_end_object(w);
    }
    json_end_array(w);
    char left[64];
    snprintf(left, sizeof left, "%s_left_out", key);
    json_uint(w, left, left_out);
}

static void write_landing(struct json_writer *w, const struct probe_report *r)
{
    if (!r->landing_attempted) {
        json_null(w, "landing");
        return;
    }
    const struct landing_report *l = &r->landing;
    json_begin_object(w, "landing");
    optional_string(w, "error", l->ok ? NULL : l->error);
    optional_string(w, "configuration_error", l->config_error[0] ? l->config_error : NULL);
    write_units(w, "denied_units", l->denied, l->denied_count, l->denied_left_out);
    write_units(w, "lookalike_units", l->lookalikes, l->lookalike_count,
                l->lookalike_left_out);
    json_begin_array(w, "critical_extents");
    for (size_t i = 0; l->ok && i < l->extents.entry_count; i++) {
        const struct extent_entry *x = &l->extents.entry[i];
        json_begin_object(w, NULL);
        json_string(w, "entry", x->name);
        json_bool(w, "builtin", x->builtin);
        json_uint(w, "units", x->units);
        json_uint(w, "functions", x->functions);
        json_bool(w, "found", x->units + x->functions > 0);
        json_end_object(w);
    }
    json_end_array(w);
    json_uint(w, "safepoints", l->safepoints);
    json_uint(w, "denied_sites", l->denied_sites);
    json_uint(w, "bad_shape_sites", l->bad_shape_sites);
    json_uint(w, "preemptible_sites", l->preemptible_sites);
    json_uint(w, "inlined_denied_sites", l->inlined_denied_sites);
    json_uint(w, "inlined_extent_sites", l->inlined_extent_sites);
    json_uint(w, "no_debuginfo_alloc_sites", l->no_debuginfo_sites);
    json_uint(w, "poll_sites_without_debuginfo", l->poll_sites_unjudged);
    write_units(w, "inlined_code", l->inlined, l->inlined_count, l->inlined_left_out);
    json_begin_object(w, "sites_modes");
    json_uint(w, "poll", l->preemptible_poll);
    json_uint(w, "loop", l->preemptible_poll + l->preemptible_loop_allocs);
    json_uint(w, "all", l->preemptible_poll + l->preemptible_allocs);
    json_uint(w, "loop_functions", l->loops.functions);
    json_uint(w, "loop_functions_undecoded", l->loops.undecoded);
    json_end_object(w);
    if (l->safepoints)
        json_double(w, "preemptible_ratio",
                    (double)l->preemptible_sites / (double)l->safepoints);
    else
        json_null(w, "preemptible_ratio");
    json_end_object(w);
}

void report_json(const struct probe_report *r)
{
    struct json_writer w;
    json_init(&w, stdout);
    json_begin_object(&w, NULL);
    json_string(&w, "probe_version", OCPREEMPT_VERSION);
    json_string(&w, "file", r->path);
    json_string(&w, "verdict", verdict_name(r->status));
    json_uint(&w, "exit_code", (uint64_t)r->status);
    optional_string(&w, "error", r->error);
    write_binary(&w, r);
    write_profile(&w, r);
    write_layout(&w, r);
    write_census(&w, r);
    write_yield(&w, r);
    write_landing(&w, r);
    json_begin_array(&w, "reasons");
    for (size_t i = 0; i < r->reason_count; i++)
        json_string(&w, NULL, r->reasons[i]);
    json_end_array(&w);
    json_end_object(&w);
    json_finish(&w);
}
