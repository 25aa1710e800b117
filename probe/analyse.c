/* analyse: from a path to a filled probe_report and its verdict.
 *
 * Order matters and is the one the shim follows at start-up: open the ELF, identify the
 * OCaml kind/version, read the runtime layout, then look at frame tables and the yield
 * function. Invariants: later steps run only when earlier ones make them meaningful; every
 * step that fails leaves its reason in the report and, when it makes the program
 * unpreemptable, one verdict reason.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_report.h"
#include "runtime_profile.h"
#include "runtime_symbols.h"

static void add_reason(struct probe_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_reason(struct probe_report *r, const char *fmt, ...)
{
    if (r->reason_count == PROBE_MAX_REASONS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reasons[r->reason_count++], PROBE_REASON_LEN, fmt, ap);
    va_end(ap);
}

/* A file libelf rejects may still be an OCaml bytecode script: say so rather than fail. */
static bool recognise_bytecode_script(struct probe_report *r)
{
    if (ocaml_bytecode_trailer(r->path, r->bytecode_magic, sizeof r->bytecode_magic) != 1)
        return false;
    r->is_elf = false;
    r->info.kind = OCAML_BYTECODE;
    return true;
}

/* The shim's own rule (shim/base/runtime.c: runtime_bind): the release's profile, then (after
 * the layout and symbol checks, analyse_profile_checks) the profile's checks against the
 * binary, DWARF required unless it is the profile's own release; a refused release is
 * never "supported" here. For a release without a profile the checks run against the
 * nearest profile anyway: what fails is what a port must change. */
static void judge_profile(struct probe_report *r)
{
    char why[PROBE_REASON_LEN];
    const char *assume = getenv("OCPREEMPT_ASSUME_RUNTIME");
    r->profile_attempted = true;
    r->profile_selected = runtime_profile_select(&r->info, assume, &r->profile, why,
                                                 sizeof why) == 0;
    if (!r->profile_selected) {
        add_reason(r, "%s", why);
        r->profile.profile = runtime_profile_nearest(&r->info);
        r->profile.match = PROFILE_ASSUMED;
    }
}

static void analyse_profile_checks(struct probe_report *r, const struct elf_image *img)
{
    if (r->profile.profile == NULL)
        return;
    r->checks_ran = true;
    shutdown_notice_decide(img, &r->shutdown_notice);
    bool exact = r->profile_selected && r->profile.match == PROFILE_EXACT;
    /* As in the shim, a binary refused for an earlier reason gets no second one here (the
       report's profile section still lists the failed checks). */
    size_t earlier = r->reason_count;
    if (runtime_profile_check(img, r->profile.profile, !exact, &r->checks) != 0 &&
        r->profile_selected && earlier == 0)
        add_reason(r, "OCaml %s does not match the OCaml %s profile (%zu check%s failed, "
                   "first: %s)", r->info.version, r->profile.profile->series,
                   r->checks.failed, r->checks.failed == 1 ? "" : "s", r->checks.failures[0]);
}

static void judge_kind(struct probe_report *r)
{
    switch (r->info.kind) {
    case OCAML_NATIVE_5:
        judge_profile(r);
        return;
    case OCAML_NATIVE_4:
        add_reason(r, "OCaml %s native code: OCaml < 5 has no effects or fibers",
                   r->info.version[0] ? r->info.version : "4.x");
        return;
    case OCAML_BYTECODE:
        add_reason(r, "OCaml bytecode executable: ocpreempt needs native code (ocamlopt)");
        return;
    case NOT_OCAML:
        add_reason(r, "not an OCaml executable");
        return;
    }
}

/* The shim reaches a program only through the dynamic loader (LD_PRELOAD), and its front
 * recognises an OCaml 5 program by the runtime symbols the program exports (front.c). */
static void judge_loading(struct probe_report *r, const struct elf_image *img)
{
    r->dynamic = elf_image_is_dynamic(img);
    if (!r->dynamic) {
        add_reason(r, "statically linked: LD_PRELOAD cannot load the shim into it "
                      "(link it dynamically)");
        return;
    }
    if (r->info.kind != OCAML_NATIVE_5)
        return;
    r->runtime_exported = elf_image_exports(img, "caml_start_program") &&
                          elf_image_exports(img, "caml_frametable");
    if (!r->runtime_exported)
        add_reason(r, "the OCaml runtime's symbols are not exported (linked without "
                      "-Wl,-E): the shim cannot recognise the program at start-up");
}

static void analyse_layout(struct probe_report *r, const struct elf_image *img)
{
    struct analysis_error err = {{0}};
    r->layout_attempted = true;
    r->layout_ok = runtime_layout_read(img, &r->info, &r->layout, &err) == 0;
    if (!r->layout_ok) {
        snprintf(r->layout_error, sizeof r->layout_error, "%s", err.msg);
        add_reason(r, "runtime layout unknown (%s)", err.msg);
    }
}

static void analyse_census(struct probe_report *r, const struct elf_image *img)
{
    struct analysis_error err = {{0}};
    r->census_attempted = true;
    r->census_ok = census_take(img, &r->census, &err) == 0;
    if (!r->census_ok) {
        /* A frame table we cannot walk means a corrupt file (or a format we do not know):
         * that is "could not analyse", not a property of a sound program. */
        snprintf(r->census_error, sizeof r->census_error, "%s", err.msg);
        snprintf(r->error, sizeof r->error, "%.90s: frame tables unreadable: %.130s", r->path,
                 err.msg);
        return;
    }
    if (r->census.outside_code > 0)
        add_reason(r, "corrupt frame table: %zu poll/allocation return address(es) outside "
                   "the executable's code (first 0x%llx)", r->census.outside_code,
                   (unsigned long long)r->census.first_outside);
    else if (census_safepoints(&r->census) == 0)
        add_reason(r, "no poll or allocation sites in the frame tables");
    else if (census_recognised(&r->census) == 0)
        add_reason(r, "no poll or allocation site has a recognised code shape");
}

static void analyse_yield(struct probe_report *r, const struct elf_image *img,
                          const char *requested)
{
    r->yield_attempted = true;
    yield_report_fill(img, requested, &r->yield);
    char why[PROBE_REASON_LEN];
    r->yield_choice = yield_report_choice(&r->yield, &r->yield_choice_path, why, sizeof why);
    if (r->yield_choice == NULL)
        add_reason(r, "%s", why);
}

/* The runtime functions and data the shim would call or write must lie where the
 * executable's segments say (the shim applies the same check before binding them). */
static void analyse_runtime_symbols(struct probe_report *r, const struct elf_image *img)
{
    struct analysis_error err = {{0}};
    if (runtime_symbols_check(img, &err) != 0)
        add_reason(r, "%s", err.msg);
}

static void analyse_native5(struct probe_report *r, const struct elf_image *img,
                            const char *requested)
{
    analyse_runtime_symbols(r, img);
    analyse_layout(r, img);
    analyse_profile_checks(r, img);
    analyse_census(r, img);
    analyse_yield(r, img, requested);
    r->landing_attempted = true;
    landing_report_take(img, &r->landing);
}

void probe_analyse(const char *path, const char *requested_yield, struct probe_report *r)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->is_elf = true;
    struct analysis_error err = {{0}};
    struct elf_image *img = NULL;
    if (elf_image_open(path, &img, &err) != 0) {
        if (recognise_bytecode_script(r)) {
            judge_kind(r);
            r->status = PROBE_UNSUPPORTED;
            return;
        }
        r->status = PROBE_ERROR;
        snprintf(r->error, sizeof r->error, "%s", err.msg);
        return;
    }
    r->elf_opened = true;
    r->pie = elf_image_is_pie(img);
    r->has_symtab = elf_image_has_symtab(img);
    r->has_dwarf = elf_image_has_dwarf(img);
    if (ocaml_binary_identify(img, &r->info, &err) != 0) {
        r->status = PROBE_ERROR;
        snprintf(r->error, sizeof r->error, "%s", err.msg);
        elf_image_close(img);
        return;
    }
    judge_kind(r);
    judge_loading(r, img);
    if (r->info.kind == OCAML_BYTECODE)
        ocaml_bytecode_trailer(path, r->bytecode_magic, sizeof r->bytecode_magic);
    if (r->info.kind == OCAML_NATIVE_5)
        analyse_native5(r, img, requested_yield);
    elf_image_close(img);
    if (r->error[0] != '\0')
        r->status = PROBE_ERROR;
    else
        r->status = r->reason_count == 0 ? PROBE_SUPPORTED : PROBE_UNSUPPORTED;
}
