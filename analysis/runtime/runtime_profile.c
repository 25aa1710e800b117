/* runtime_profile: the release profiles and the checks that bind a binary to one (see
 * runtime_profile.h).
 *
 * Where the figures come from (public ocaml/ocaml sources, and the DWARF and code of
 * binaries built by each release; tests/unit checks them again per profile):
 *  - 5.3.0: frame_descriptors.h declares `caml_frame_descrs *caml_get_frame_descrs(void)`,
 *    `caml_find_frame_descr(caml_frame_descrs *, uintnat)` and caml_register_frametable;
 *  - 5.2.0: the same header makes caml_frame_descrs a 24-byte struct (two ints, two
 *    pointers) returned and passed by value, and has only caml_register_frametables(void **,
 *    int); caml_domain_state lacks 5.3's allocated_words_direct (the fields after it sit 8
 *    bytes lower); memprof.c's sampler is `#if 0`: the trigger stays at young_start;
 *  - both: caml_resume and caml_runstack start with the same instructions in amd64.S, and
 *    the frame descriptors and their debuginfo are encoded the same way (backtrace_nat.c);
 *  - 5.1: refused (the reason below, and in docs/design.md).
 * Invariant: DWARF and code are file data: a check reads them through libdw and
 * elf_image_code only, and a failure is a line, never a crash.
 */
#include "runtime_profile.h"

#include "elfutils.h"     /* libelf, libdw: loaded on first use */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analysis_error.h"

/* ---- the profiles --------------------------------------------------------------------- */

/* amd64.S of 5.2 and 5.3 (no frame pointers, no TSan). caml_resume: `lea -1(%rax),%r10;
 * mov %rdi,%rax`; caml_runstack: `and $-2,%rax; mov current_stack(%r14),%rcx`. */
static const struct switch_prologue amd64_switch_prologues_5_2[SWITCH_ROUTINE_COUNT] = {
    { "caml_resume", 7, { 0x4c, 0x8d, 0x50, 0xff, 0x48, 0x89, 0xf8 },
      { 1, 1, 1, 1, 1, 1, 1 } },
    { "caml_runstack", 8, { 0x48, 0x83, 0xe0, 0xfe, 0x49, 0x8b, 0x4e, 0 },
      { 1, 1, 1, 1, 1, 1, 1, 0 } },
};

#define REFUSAL_5_1                                                                    \
    "its runtime calls the interrupt hook before signal handlers, memprof callbacks and " \
    "finalisers have run OCaml code (see docs/design.md)"

static const struct runtime_profile profiles[] = {
    { .series = "5.3", .release = "5.3.0", .refusal = NULL,
      .frame_descrs = FRAME_DESCRS_BY_POINTER, .registration = REGISTER_ONE_TABLE,
      .debuginfo_format = 1, .prologues = amd64_switch_prologues_5_2,
      .memprof_sampling = true, .shutdown_stops_domains = false },
    { .series = "5.2", .release = "5.2.0", .refusal = NULL,
      .frame_descrs = FRAME_DESCRS_BY_VALUE, .registration = REGISTER_TABLE_ARRAY,
      .debuginfo_format = 1, .prologues = amd64_switch_prologues_5_2,
      .memprof_sampling = false, .shutdown_stops_domains = false },
    { .series = "5.1", .release = "5.1.0", .refusal = REFUSAL_5_1,
      .frame_descrs = FRAME_DESCRS_BY_VALUE, .registration = REGISTER_TABLE_ARRAY,
      .debuginfo_format = 1, .prologues = NULL,
      .memprof_sampling = false, .shutdown_stops_domains = false },
};
#define PROFILE_COUNT (sizeof profiles / sizeof profiles[0])

const char *runtime_profile_supported_list(void) { return "5.2, 5.3"; }

const struct runtime_profile *runtime_profile_named(const char *series)
{
    for (size_t i = 0; series != NULL && i < PROFILE_COUNT; i++)
        if (strcmp(profiles[i].series, series) == 0 && profiles[i].refusal == NULL)
            return &profiles[i];
    return NULL;
}

static const struct runtime_profile *profile_of_series(unsigned major, unsigned minor)
{
    char series[24];
    snprintf(series, sizeof series, "%u.%u", major, minor);
    for (size_t i = 0; i < PROFILE_COUNT; i++)
        if (strcmp(profiles[i].series, series) == 0)
            return &profiles[i];
    return NULL;
}

const struct runtime_profile *runtime_profile_nearest(const struct ocaml_binary_info *info)
{
    unsigned major = 0, minor = 0;
    bool known = sscanf(info->version, "%u.%u", &major, &minor) == 2;
    const struct runtime_profile *best = NULL, *oldest = NULL;
    unsigned best_key = 0, oldest_key = ~0u, key = major * 1000 + minor;
    for (size_t i = 0; i < PROFILE_COUNT; i++) {
        unsigned pm, pn;
        if (profiles[i].refusal != NULL || sscanf(profiles[i].series, "%u.%u", &pm, &pn) != 2)
            continue;
        unsigned pkey = pm * 1000 + pn;
        if (pkey < oldest_key) {
            oldest = &profiles[i];
            oldest_key = pkey;
        }
        if ((!known || pkey <= key) && (best == NULL || pkey > best_key)) {
            best = &profiles[i];
            best_key = pkey;
        }
    }
    return best != NULL ? best : oldest;
}

const char *profile_match_name(enum profile_match m)
{
    switch (m) {
    case PROFILE_EXACT: return "exact";
    case PROFILE_PATCH_RELEASE: return "patch-release";
    case PROFILE_ASSUMED: return "assumed";
    }
    return "unknown";
}

int runtime_profile_select(const struct ocaml_binary_info *info, const char *assume,
                           struct profile_choice *out, char *why, size_t why_len)
{
    unsigned major = 0, minor = 0;
    bool known = sscanf(info->version, "%u.%u", &major, &minor) == 2;
    const struct runtime_profile *p = known ? profile_of_series(major, minor) : NULL;
    if (p != NULL && p->refusal != NULL) {
        snprintf(why, why_len, "OCaml %u.%u.x is not supported: %s; supported: OCaml %s",
                 major, minor, p->refusal, runtime_profile_supported_list());
        return 1;
    }
    if (p != NULL) {
        /* "5.3.0+fp": a configuration suffix keeps the release. */
        size_t base = strcspn(info->version, "+~");
        out->profile = p;
        out->match = strlen(p->release) == base && strncmp(info->version, p->release, base) == 0
                         ? PROFILE_EXACT : PROFILE_PATCH_RELEASE;
        return 0;
    }
    char release[64];
    if (known)
        snprintf(release, sizeof release, "OCaml %s", info->version);
    else
        snprintf(release, sizeof release, "OCaml 5 of unknown version (no Stdlib.Sys data)");
    if (assume != NULL && assume[0] != '\0') {
        out->profile = runtime_profile_named(assume);
        out->match = PROFILE_ASSUMED;
        if (out->profile != NULL)
            return 0;
        snprintf(why, why_len, "%s has no runtime profile, and OCPREEMPT_ASSUME_RUNTIME=%s "
                 "names none (use one of %s)", release, assume,
                 runtime_profile_supported_list());
        return 1;
    }
    snprintf(why, why_len, "%s has no runtime profile (supported: OCaml %s); to try it on "
             "the nearest, set OCPREEMPT_ASSUME_RUNTIME=%s (ocpreempt run --assume-runtime "
             "%s): it runs only where the binary's DWARF and code agree with that profile",
             release, runtime_profile_supported_list(), profiles[0].series,
             profiles[0].series);
    return 1;
}

/* ---- the checks ----------------------------------------------------------------------- */

static void fail(struct profile_check_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct profile_check_result *r, const char *fmt, ...)
{
    if (r->failed < PROFILE_CHECK_MAX) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->failures[r->failed], PROFILE_CHECK_LEN, fmt, ap);
        va_end(ap);
    }
    r->failed++;
}

/* Every required field of the DWARF layout equal to the profile's. */
static void check_layout(const struct elf_image *img, const struct runtime_profile *p,
                         struct profile_check_result *r)
{
    struct runtime_layout dwarf;
    struct analysis_error err = {{0}};
    if (runtime_layout_from_dwarf(img, &dwarf, &err) != 0) {
        fail(r, "layout: %s", err.msg);
        return;
    }
    const struct runtime_layout *layout = runtime_layout_builtin(p->release);
    if (layout == NULL) {
        fail(r, "layout: the %s profile has no built-in layout", p->series);
        return;
    }
    size_t before = r->failed;
    for (const struct layout_field *f = runtime_layout_fields; f->name != NULL; f++) {
        size_t got = runtime_layout_get(&dwarf, f), want = runtime_layout_get(layout, f);
        if (!f->optional && got != want)
            fail(r, "layout: %s.%s is at %zd, the %s profile has %zd",
                 runtime_layout_struct_names[f->owner], f->name, (ssize_t)got, p->series,
                 (ssize_t)want);
    }
    if (r->failed == before)
        r->passed++;
}

static bool die_named(Dwarf_Die *die, const char *name)
{
    const char *n = dwarf_diename(die);
    return n != NULL && strcmp(n, name) == 0;
}

/* The type DIE `die`'s DW_AT_type names, through typedefs and qualifiers. */
static bool underlying_type(Dwarf_Die *die, Dwarf_Die *out)
{
    Dwarf_Attribute attr;
    Dwarf_Die cur;
    if (dwarf_attr_integrate(die, DW_AT_type, &attr) == NULL ||
        dwarf_formref_die(&attr, &cur) == NULL)
        return false;
    for (int depth = 0; depth < 8; depth++) {
        int tag = dwarf_tag(&cur);
        if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type) {
            *out = cur;
            return true;
        }
        if (dwarf_attr(&cur, DW_AT_type, &attr) == NULL || dwarf_formref_die(&attr, &cur) == NULL)
            return false;
    }
    return false;
}

/* The subprogram DIE of `fn` in the compilation unit that contains its code. */
static bool find_subprogram(const struct elf_image *img, Dwarf *dbg, const char *fn,
                            Dwarf_Die *out)
{
    struct elf_symbol sym;
    Dwarf_Die cu, child;
    if (elf_image_symbol(img, fn, &sym) != 0 || dwarf_addrdie(dbg, sym.value, &cu) == NULL ||
        dwarf_child(&cu, &child) != 0)
        return false;
    do {
        if (dwarf_tag(&child) == DW_TAG_subprogram && die_named(&child, fn)) {
            *out = child;
            return true;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

/* "pointer", "struct of N bytes" or "?" for the type `die` refers to. */
static enum frame_descrs_abi classify(Dwarf_Die *type, int *bytes)
{
    *bytes = dwarf_tag(type) == DW_TAG_structure_type ? dwarf_bytesize(type) : -1;
    return dwarf_tag(type) == DW_TAG_pointer_type ? FRAME_DESCRS_BY_POINTER
                                                  : FRAME_DESCRS_BY_VALUE;
}

/* The size of caml_frame_descrs passed by value (two ints, two pointers): the by-value
 * adapter in shim/base/runtime.c declares exactly this. */
#define FRAME_DESCRS_VALUE_BYTES 24

static void check_one_abi(const char *what, Dwarf_Die *type, bool found,
                          const struct runtime_profile *p, struct profile_check_result *r)
{
    static const char *const names[] = {"by pointer", "by value"};
    if (!found) {
        fail(r, "frame-table ABI: no DWARF type for %s", what);
        return;
    }
    int bytes;
    enum frame_descrs_abi abi = classify(type, &bytes);
    if (abi == FRAME_DESCRS_BY_VALUE && (dwarf_tag(type) != DW_TAG_structure_type ||
                                         bytes != FRAME_DESCRS_VALUE_BYTES)) {
        fail(r, "frame-table ABI: %s is neither a pointer nor the %d-byte caml_frame_descrs "
             "(DWARF tag 0x%x, %d bytes)", what, FRAME_DESCRS_VALUE_BYTES, dwarf_tag(type),
             bytes);
        return;
    }
    if (abi != p->frame_descrs) {
        fail(r, "frame-table ABI: %s passes caml_frame_descrs %s, the %s profile %s", what,
             names[abi], p->series, names[p->frame_descrs]);
        return;
    }
    r->passed++;
}

/* The return type of caml_get_frame_descrs and the first parameter of
 * caml_find_frame_descr: a pointer (5.3) or the struct itself (5.2). */
static void check_frame_abi(const struct elf_image *img, const struct runtime_profile *p,
                            struct profile_check_result *r)
{
    Dwarf *dbg = dwarf_begin_elf(elf_image_elf(img), DWARF_C_READ, NULL);
    if (dbg == NULL) {
        fail(r, "frame-table ABI: DWARF unreadable: %s", dwarf_errmsg(-1));
        return;
    }
    Dwarf_Die fn, type, param;
    bool found = find_subprogram(img, dbg, "caml_get_frame_descrs", &fn) &&
                 underlying_type(&fn, &type);
    check_one_abi("caml_get_frame_descrs' result", &type, found, p, r);
    found = find_subprogram(img, dbg, "caml_find_frame_descr", &fn) &&
            dwarf_child(&fn, &param) == 0 && dwarf_tag(&param) == DW_TAG_formal_parameter &&
            underlying_type(&param, &type);
    check_one_abi("caml_find_frame_descr's first parameter", &type, found, p, r);
    dwarf_end(dbg);
}

/* The symbols the shim binds (shim/base/runtime.c), per the profile's registration. */
static void check_symbols(const struct elf_image *img, const struct runtime_profile *p,
                          struct profile_check_result *r)
{
    static const char *const common[] = {
        "caml_domain_external_interrupt_hook", "caml_try_realloc_stack", "caml_named_value",
        "caml_call_gc", "caml_frametable", "caml_find_frame_descr", "caml_get_frame_descrs",
        "caml_ml_mutex_lock", "caml_ml_mutex_unlock", "caml_ml_mutex_try_lock", "caml_state",
        NULL};
    const char *registration = p->registration == REGISTER_ONE_TABLE
                                   ? "caml_register_frametable" : "caml_register_frametables";
    size_t before = r->failed;
    struct elf_symbol sym;
    for (const char *const *n = common; *n != NULL; n++)
        if (elf_image_symbol(img, *n, &sym) != 0)
            fail(r, "symbols: %s not found", *n);
    if (elf_image_symbol(img, registration, &sym) != 0)
        fail(r, "symbols: %s not found (the %s profile registers frame tables with it)",
             registration, p->series);
    if (r->failed == before)
        r->passed++;
}

static void check_prologues(const struct elf_image *img, const struct runtime_profile *p,
                            struct profile_check_result *r)
{
    if (p->prologues == NULL)
        return;
    for (size_t i = 0; i < SWITCH_ROUTINE_COUNT; i++) {
        const struct switch_prologue *sp = &p->prologues[i];
        struct elf_symbol sym;
        const uint8_t *code = NULL;
        if (elf_image_symbol(img, sp->routine, &sym) != 0 || sym.size < sp->len ||
            (code = elf_image_code(img, sym.value, sp->len)) == NULL) {
            fail(r, "prologues: %s not found", sp->routine);
            continue;
        }
        size_t k = 0;
        while (k < sp->len && (!sp->mask[k] || code[k] == sp->code[k]))
            k++;
        if (k < sp->len)
            fail(r, "prologues: %s byte %zu is 0x%02x, the %s profile has 0x%02x",
                 sp->routine, k, code[k], p->series, sp->code[k]);
        else
            r->passed++;
    }
}

int runtime_profile_check(const struct elf_image *img, const struct runtime_profile *p,
                          bool need_dwarf, struct profile_check_result *out)
{
    memset(out, 0, sizeof *out);
    check_symbols(img, p, out);
    check_prologues(img, p, out);
    if (elf_image_has_dwarf(img)) {
        out->dwarf = true;
        /* The profile's own release: runtime_layout_read compares its DWARF with the
           built-in table already (with its own, more precise, messages). */
        if (need_dwarf)
            check_layout(img, p, out);
        check_frame_abi(img, p, out);
    } else if (need_dwarf) {
        fail(out, "DWARF: the binary has none, so its layout and frame-table ABI cannot "
                  "be checked against the %s profile", p->series);
    }
    return out->failed == 0 ? 0 : -1;
}
