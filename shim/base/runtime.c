/* runtime: binding the shim to the executable's OCaml runtime (see runtime.h).
 * Runs once, in the constructor, before any OCaml code: nothing here can race. */
#define _GNU_SOURCE
#include "runtime.h"
#include "runtime_frame_abi.h"

#include <link.h>
#include <stdio.h>
#include <string.h>

#include "exe_memory.h"
#include "runtime_symbols.h"

struct ocaml_runtime ocaml_rt;

static int main_program_bias(struct dl_phdr_info *info, size_t size, void *out)
{
    (void)size;
    *(uintptr_t *)out = info->dlpi_addr;
    return 1;                     /* the first object is the main program */
}

static int bind_symbol(const struct elf_image *img, const char *name, uintptr_t *addr,
                       uintptr_t *end, char *why, size_t why_len)
{
    struct elf_symbol sym;
    if (elf_image_symbol(img, name, &sym) != 0) {
        snprintf(why, why_len, "runtime symbol %s not found (stripped binary?)", name);
        return -1;
    }
    *addr = ocaml_rt.bias + sym.value;
    if (end)
        *end = *addr + sym.size;
    return 0;
}

#define BIND(name, field)                                                       \
    do {                                                                        \
        uintptr_t a_;                                                           \
        if (bind_symbol(img, name, &a_, NULL, why, why_len) != 0)               \
            return -1;                                                          \
        memcpy(&ocaml_rt.field, &a_, sizeof a_);                                \
    } while (0)

static int bind_functions(const struct elf_image *img, char *why, size_t why_len)
{
    BIND("caml_domain_external_interrupt_hook", external_interrupt_hook);
    BIND(ocaml_rt.profile.profile->registration == REGISTER_ONE_TABLE
             ? "caml_register_frametable" : "caml_register_frametables",
         runtime_register_frametable);
    BIND("caml_try_realloc_stack", try_realloc_stack);
    BIND("caml_named_value", named_value);
    BIND("caml_call_gc", caml_call_gc);
    BIND("caml_frametable", frametable);
    BIND("caml_find_frame_descr", runtime_find_frame_descr);  /* the landing rule's walk */
    BIND("caml_get_frame_descrs", runtime_get_frame_descrs);
    if (bind_symbol(img, "caml_ml_mutex_lock", &ocaml_rt.ml_mutex_lock,
                    &ocaml_rt.ml_mutex_lock_end, why, why_len) != 0 ||
        bind_symbol(img, "caml_ml_mutex_unlock", &ocaml_rt.ml_mutex_unlock,
                    &ocaml_rt.ml_mutex_unlock_end, why, why_len) != 0 ||
        bind_symbol(img, "caml_ml_mutex_try_lock", &ocaml_rt.ml_mutex_trylock,
                    &ocaml_rt.ml_mutex_trylock_end, why, why_len) != 0)
        return -1;
    struct elf_symbol sym;
    shutdown_notice_decide(img, &ocaml_rt.shutdown_notice);
    if (ocaml_rt.shutdown_notice.kind != NOTICE_NONE) {
        ocaml_rt.notice_caller = ocaml_rt.bias + ocaml_rt.shutdown_notice.caller;
        ocaml_rt.notice_caller_end = ocaml_rt.bias + ocaml_rt.shutdown_notice.caller_end;
    }
    /* Local symbols: a thread started at either runs OCaml from its first instructions. */
    static const char *const entries[] = { "caml_thread_start", "domain_thread_func" };
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
        if (elf_image_symbol(img, entries[i], &sym) == 0 && sym.kind == ELF_SYMBOL_FUNC)
            ocaml_rt.ocaml_thread_entry[i] = ocaml_rt.bias + sym.value;
    if (elf_image_symbol(img, "caml_leave_blocking_section_hook", &sym) == 0)
        ocaml_rt.leave_blocking_section_hook = (void (**)(void))(ocaml_rt.bias + sym.value);
    if (elf_image_symbol(img, "caml_enter_blocking_section_hook", &sym) == 0)
        ocaml_rt.enter_blocking_section_hook = (void (**)(void))(ocaml_rt.bias + sym.value);
    if (elf_image_symbol(img, "caml_minor_gc_end_hook", &sym) == 0)
        ocaml_rt.minor_gc_end_hook = (void (**)(void))(ocaml_rt.bias + sym.value);
    if (elf_image_symbol(img, "caml_state", &sym) != 0 || sym.kind != ELF_SYMBOL_TLS) {
        snprintf(why, why_len, "TLS symbol caml_state not found");
        return -1;
    }
    ocaml_rt.caml_state_tls_offset = sym.value;
    return 0;
}

/* The stub addresses young_limit as (%r14): refuse a layout where that is not true. */
static int check_layout_assumptions(char *why, size_t why_len)
{
    if (ocaml_rt.layout.domain_state.young_limit != 0) {
        snprintf(why, why_len, "unexpected layout: young_limit at offset %zu, not 0",
                 ocaml_rt.layout.domain_state.young_limit);
        return -1;
    }
    return 0;
}

/* The release's profile, checked against the binary (after the layout and the symbols'
 * placement, whose own messages are more precise): where the release is not the one the
 * profile was read from (a patch release, or an assumed profile) DWARF must agree.
 * 0 bound, -1 the binary fails its profile's checks. */
/* The frame-table adapters of the profile's ABI, over the functions bind_functions bound. */
static void bind_frame_abi(void)
{
    struct frame_abi_functions runtime = { ocaml_rt.runtime_get_frame_descrs,
                                           ocaml_rt.runtime_find_frame_descr,
                                           ocaml_rt.runtime_register_frametable };
    struct frame_abi_adapters adapters;
    frame_abi_bind(ocaml_rt.profile.profile, &runtime, &adapters);
    ocaml_rt.find_frame_descr = adapters.find_frame_descr;
    ocaml_rt.register_frametable = adapters.register_frametable;
}

static int check_profile(const struct elf_image *img, char *why, size_t why_len)
{
    const struct runtime_profile *p = ocaml_rt.profile.profile;
    bool exact = ocaml_rt.profile.match == PROFILE_EXACT;
    static struct profile_check_result checks;      /* large: off the stack */
    if (runtime_profile_check(img, p, !exact, &checks) != 0) {
        snprintf(why, why_len, "OCaml %s does not match the OCaml %s profile (%zu check%s "
                 "failed, first: %s; ocpreempt-probe lists them)", ocaml_rt.info.version,
                 p->series, checks.failed, checks.failed == 1 ? "" : "s", checks.failures[0]);
        return -1;
    }
    return 0;
}

int runtime_bind(const struct elf_image *img, const char *assume_runtime, char *why,
                 size_t why_len)
{
    struct analysis_error err;
    dl_iterate_phdr(main_program_bias, &ocaml_rt.bias);
    if (ocaml_binary_identify(img, &ocaml_rt.info, &err) != 0) {
        snprintf(why, why_len, "%s", err.msg);
        return -1;
    }
    if (ocaml_rt.info.kind != OCAML_NATIVE_5) {
        snprintf(why, why_len, "not an OCaml 5 native executable (%s)",
                 ocaml_binary_kind_name(ocaml_rt.info.kind));
        return 1;                 /* not ours: stay inert and silent */
    }
    /* Only what was checked is accepted; the probe applies the same rule. */
    if (runtime_profile_select(&ocaml_rt.info, assume_runtime, &ocaml_rt.profile, why,
                               why_len) != 0)
        return 2;
    if (runtime_layout_read(img, &ocaml_rt.info, &ocaml_rt.layout, &err) != 0) {
        snprintf(why, why_len, "runtime layout unknown: %s", err.msg);
        return -1;
    }
    /* Symbol values come from the file: check them before calling or writing through any
       (the probe refuses by the same rule). */
    if (runtime_symbols_check(img, &err) != 0) {
        snprintf(why, why_len, "%s", err.msg);
        return -1;
    }
    if (check_profile(img, why, why_len) != 0 || bind_functions(img, why, why_len) != 0)
        return -1;
    bind_frame_abi();
    return check_layout_assumptions(why, why_len);
}

/* ---- the analysis cache's record ----------------------------------------------------- */

enum address_check { ADDRESS_DATA, ADDRESS_CODE, ADDRESS_OPTIONAL_DATA, ADDRESS_OPTIONAL_CODE };

/* The address fields of ocaml_rt, in the record's order (notice_caller(_end) are derived
 * from the notice, and the frame-ABI adapters are rebound). */
static void *address_field(size_t i, enum address_check *check)
{
    static const enum address_check checks[RUNTIME_CACHED_ADDRESSES] = {
        ADDRESS_DATA, ADDRESS_OPTIONAL_DATA, ADDRESS_OPTIONAL_DATA, ADDRESS_CODE, ADDRESS_CODE,
        ADDRESS_CODE, ADDRESS_CODE, ADDRESS_CODE, ADDRESS_CODE, ADDRESS_DATA,
        ADDRESS_CODE, ADDRESS_CODE, ADDRESS_CODE, ADDRESS_CODE, ADDRESS_CODE, ADDRESS_CODE,
        ADDRESS_OPTIONAL_CODE, ADDRESS_OPTIONAL_CODE, ADDRESS_OPTIONAL_DATA,
    };
    void *fields[RUNTIME_CACHED_ADDRESSES] = {
        &ocaml_rt.external_interrupt_hook, &ocaml_rt.leave_blocking_section_hook,
        &ocaml_rt.enter_blocking_section_hook, &ocaml_rt.runtime_register_frametable,
        &ocaml_rt.runtime_find_frame_descr, &ocaml_rt.runtime_get_frame_descrs,
        &ocaml_rt.try_realloc_stack, &ocaml_rt.named_value, &ocaml_rt.caml_call_gc,
        &ocaml_rt.frametable, &ocaml_rt.ml_mutex_lock, &ocaml_rt.ml_mutex_lock_end,
        &ocaml_rt.ml_mutex_unlock, &ocaml_rt.ml_mutex_unlock_end, &ocaml_rt.ml_mutex_trylock,
        &ocaml_rt.ml_mutex_trylock_end, &ocaml_rt.ocaml_thread_entry[0],
        &ocaml_rt.ocaml_thread_entry[1], &ocaml_rt.minor_gc_end_hook,
    };
    *check = checks[i];
    return fields[i];
}

static int copy_string(char *to, size_t size, const char *from)
{
    if (!from || strlen(from) >= size)
        return -1;
    strcpy(to, from);
    return 0;
}

int runtime_export(struct runtime_cached *out)
{
    memset(out, 0, sizeof *out);
    out->info = ocaml_rt.info;
    out->layout = ocaml_rt.layout;
    out->layout.builtin_name = NULL;
    if ((ocaml_rt.layout.builtin_name &&
         copy_string(out->builtin_name, sizeof out->builtin_name, ocaml_rt.layout.builtin_name)) ||
        copy_string(out->series, sizeof out->series, ocaml_rt.profile.profile->series) ||
        copy_string(out->notice_why, sizeof out->notice_why, ocaml_rt.shutdown_notice.why))
        return -1;
    out->match = ocaml_rt.profile.match;
    out->notice_kind = ocaml_rt.shutdown_notice.kind;
    out->notice_caller = ocaml_rt.shutdown_notice.caller;
    out->notice_caller_end = ocaml_rt.shutdown_notice.caller_end;
    out->tls_offset = ocaml_rt.caml_state_tls_offset;
    for (size_t i = 0; i < RUNTIME_CACHED_ADDRESSES; i++) {
        enum address_check check;
        uintptr_t a;
        memcpy(&a, address_field(i, &check), sizeof a);
        out->rel[i] = a ? a - ocaml_rt.bias : 0;
    }
    return 0;
}

static bool ends_in(const char *s, size_t size) { return memchr(s, '\0', size) != NULL; }

int runtime_restore(const struct runtime_cached *c, const struct exe_memory *m, char *why,
                    size_t why_len)
{
    static char builtin_name[16], notice_why[192];
    if (c->info.kind != OCAML_NATIVE_5 || c->info.frame_pointers ||
        c->info.variant > RUNTIME_INSTRUMENTED || !ends_in(c->info.version, sizeof c->info.version) ||
        !ends_in(c->builtin_name, sizeof c->builtin_name) || !ends_in(c->series, sizeof c->series) ||
        !ends_in(c->notice_why, sizeof c->notice_why) || c->match > PROFILE_ASSUMED ||
        c->notice_kind > NOTICE_NONE || c->layout.source > LAYOUT_BUILTIN ||
        c->tls_offset >= m->tls_size) {
        snprintf(why, why_len, "runtime record out of range");
        return -1;
    }
    const struct runtime_profile *profile = runtime_profile_named(c->series);
    if (!profile) {
        snprintf(why, why_len, "runtime record names no profile");
        return -1;
    }
    if (c->notice_kind != NOTICE_NONE &&
        (c->notice_caller >= c->notice_caller_end ||
         !exe_memory_in_code(m, c->notice_caller, c->notice_caller_end - c->notice_caller))) {
        snprintf(why, why_len, "runtime record: shutdown notice outside the code");
        return -1;
    }
    for (size_t i = 0; i < RUNTIME_CACHED_ADDRESSES; i++) {
        enum address_check check;
        (void)address_field(i, &check);
        bool optional = check == ADDRESS_OPTIONAL_DATA || check == ADDRESS_OPTIONAL_CODE;
        bool code = check == ADDRESS_CODE || check == ADDRESS_OPTIONAL_CODE;
        if (c->rel[i] == 0 ? !optional
                           : !(code ? exe_memory_in_code(m, c->rel[i], 0)
                                    : exe_memory_in_image(m, c->rel[i], sizeof(uintptr_t)))) {
            snprintf(why, why_len, "runtime record: address %zu outside the executable", i);
            return -1;
        }
    }
    memset(&ocaml_rt, 0, sizeof ocaml_rt);
    ocaml_rt.bias = m->bias;
    ocaml_rt.info = c->info;
    ocaml_rt.layout = c->layout;
    strcpy(builtin_name, c->builtin_name);
    ocaml_rt.layout.builtin_name = c->layout.source == LAYOUT_BUILTIN ? builtin_name : NULL;
    ocaml_rt.profile = (struct profile_choice){ profile, (enum profile_match)c->match };
    strcpy(notice_why, c->notice_why);
    ocaml_rt.shutdown_notice = (struct shutdown_notice){
        (enum shutdown_notice_kind)c->notice_kind, c->notice_caller, c->notice_caller_end,
        notice_why };
    if (c->notice_kind != NOTICE_NONE) {
        ocaml_rt.notice_caller = m->bias + c->notice_caller;
        ocaml_rt.notice_caller_end = m->bias + c->notice_caller_end;
    }
    ocaml_rt.caml_state_tls_offset = c->tls_offset;
    for (size_t i = 0; i < RUNTIME_CACHED_ADDRESSES; i++) {
        enum address_check check;
        uintptr_t a = c->rel[i] ? m->bias + c->rel[i] : 0;
        memcpy(address_field(i, &check), &a, sizeof a);
    }
    bind_frame_abi();
    return check_layout_assumptions(why, why_len);
}

/* glibc gives the executable TLS module id 1. */
struct tls_index_arg { unsigned long module, offset; };
extern void *__tls_get_addr(struct tls_index_arg *);

void **runtime_caml_state_slot(void)
{
    struct tls_index_arg ti = { 1, ocaml_rt.caml_state_tls_offset };
    return (void **)__tls_get_addr(&ti);
}

bool runtime_is_ocaml_thread_entry(void *(*start)(void *))
{
    uintptr_t at = (uintptr_t)start;
    for (size_t i = 0; i < sizeof ocaml_rt.ocaml_thread_entry / sizeof(uintptr_t); i++)
        if (at != 0 && at == ocaml_rt.ocaml_thread_entry[i])
            return true;
    return false;
}

