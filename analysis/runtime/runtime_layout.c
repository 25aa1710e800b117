/* runtime_layout: runtime struct offsets from DWARF or a built-in table (see
 * runtime_layout.h).
 *
 * Speed matters (the shim does this at start-up of every program): instead of scanning
 * every compilation unit we ask libdw for the one CU containing a function of
 * runtime/fiber.c (through .debug_aranges), and read the four structs from that CU's
 * top-level DIEs; fiber.c uses all of them, so GCC emits their complete definitions there.
 * Invariants: a struct or field missing from that CU is an error naming it, except
 * memprof_young_trigger, which OCaml < 5.2 lacks and which is then (size_t)-1; a binary
 * whose runtime has no DWARF (stripped, or runtime built without -g) falls back to the
 * built-in table for its exact version; a layout read from DWARF is used only after
 * runtime_layout_check() (fields aligned, inside their struct, distinct, and equal to the
 * built-in table where the release has one): the DWARF is file data like any other.
 */
#include "runtime_layout.h"

#include "elfutils.h"     /* libelf, libdw: loaded on first use */
#include <string.h>
#include <sys/types.h>

#include "analysis_error.h"

#define ABSENT ((size_t)-1)

/* ---- built-in tables (figures read from the DWARF of real binaries; the unit test
 *      runtime_layout_builtin_matches_dwarf compares them again) --------------------- */

static const struct runtime_layout builtin_5_3_0 = {
    .source = LAYOUT_BUILTIN,
    .builtin_name = "5.3.0",
    .domain_state = {.young_limit = 0, .young_ptr = 8, .young_start = 16, .young_end = 24,
                     .current_stack = 40, .exn_handler = 48, .action_pending = 56, .c_stack = 64,
                     .requested_external_interrupt = 256, .memprof_young_trigger = 472,
                     .id = 288, .size = 992},
    .stack_info = {.sp = 0, .exception_ptr = 8, .handler = 16, .id = 48, .size = 56},
    .stack_handler = {.handle_value = 0, .handle_exn = 8, .handle_effect = 16, .parent = 24,
                      .size = 32},
    .c_stack_link = {.stack = 0, .sp = 8, .prev = 16, .size = 24},
};

/* 5.2.0 (public tag 5.2.0): caml_domain_state has no allocated_words_direct yet, so the
 * fields after it sit one word lower than in 5.3. */
static const struct runtime_layout builtin_5_2_0 = {
    .source = LAYOUT_BUILTIN,
    .builtin_name = "5.2.0",
    .domain_state = {.young_limit = 0, .young_ptr = 8, .young_start = 16, .young_end = 24,
                     .current_stack = 40, .exn_handler = 48, .action_pending = 56, .c_stack = 64,
                     .requested_external_interrupt = 248, .memprof_young_trigger = 464,
                     .id = 280, .size = 984},
    .stack_info = {.sp = 0, .exception_ptr = 8, .handler = 16, .id = 48, .size = 56},
    .stack_handler = {.handle_value = 0, .handle_exn = 8, .handle_effect = 16, .parent = 24,
                      .size = 32},
    .c_stack_link = {.stack = 0, .sp = 8, .prev = 16, .size = 24},
};

/* npm's "ocaml@5.1.4" package is OCaml 5.1.0 (its VERSION file, Sys.ocaml_version and
 * runtime/caml/version.h all say 5.1.0; 5.1.4 is the esy packaging revision). */
static const struct runtime_layout builtin_5_1_0 = {
    .source = LAYOUT_BUILTIN,
    .builtin_name = "5.1.0",
    .domain_state = {.young_limit = 0, .young_ptr = 8, .young_start = 16, .young_end = 24,
                     .current_stack = 40, .exn_handler = 48, .action_pending = 56, .c_stack = 64,
                     .requested_external_interrupt = 248, .memprof_young_trigger = ABSENT,
                     .id = 280, .size = 968},
    .stack_info = {.sp = 0, .exception_ptr = 8, .handler = 16, .id = 48, .size = 56},
    .stack_handler = {.handle_value = 0, .handle_exn = 8, .handle_effect = 16, .parent = 24,
                      .size = 32},
    .c_stack_link = {.stack = 0, .sp = 8, .prev = 16, .size = 24},
};

const struct runtime_layout *runtime_layout_builtin(const char *version)
{
    if (version == NULL)
        return NULL;
    /* "5.3.0+fp" and other '+' configuration suffixes keep the release's layout. */
    size_t base = strcspn(version, "+");
    if (base == 5 && strncmp(version, "5.3.0", 5) == 0)
        return &builtin_5_3_0;
    if (base == 5 && strncmp(version, "5.2.0", 5) == 0)
        return &builtin_5_2_0;
    if (base == 5 && (strncmp(version, "5.1.0", 5) == 0 || strncmp(version, "5.1.4", 5) == 0))
        return &builtin_5_1_0;
    return NULL;
}

/* ---- DWARF -------------------------------------------------------------------------- */

/* Functions of runtime/fiber.c, in order of preference. */
static const char *const fiber_c_anchors[] = {
    "caml_try_realloc_stack", "caml_alloc_main_stack", "caml_free_stack", NULL};

static bool die_is_named(Dwarf_Die *die, const char *name)
{
    const char *n = dwarf_diename(die);
    return n != NULL && strcmp(n, name) == 0;
}

/* Follows typedef/const/volatile to the underlying type. */
static bool strip_type(Dwarf_Die *die, Dwarf_Die *out)
{
    Dwarf_Die cur = *die;
    for (int depth = 0; depth < 8; depth++) {
        int tag = dwarf_tag(&cur);
        if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type) {
            *out = cur;
            return true;
        }
        Dwarf_Attribute attr;
        if (dwarf_attr(&cur, DW_AT_type, &attr) == NULL || dwarf_formref_die(&attr, &cur) == NULL)
            return false;
    }
    return false;
}

struct cu_structs {
    Dwarf_Die domain_state, stack_info, stack_handler, c_stack_link;
    bool have_domain_state, have_stack_info, have_stack_handler, have_c_stack_link;
};

static bool is_definition(Dwarf_Die *die)
{
    return !dwarf_hasattr(die, DW_AT_declaration);
}

static void note_struct(Dwarf_Die *die, struct cu_structs *s)
{
    int tag = dwarf_tag(die);
    if (tag == DW_TAG_typedef && die_is_named(die, "caml_domain_state") && !s->have_domain_state) {
        Dwarf_Die target;
        if (strip_type(die, &target) && dwarf_tag(&target) == DW_TAG_structure_type &&
            is_definition(&target)) {
            s->domain_state = target;
            s->have_domain_state = true;
        }
        return;
    }
    if (tag != DW_TAG_structure_type || !is_definition(die))
        return;
    if (!s->have_stack_info && die_is_named(die, "stack_info")) {
        s->stack_info = *die;
        s->have_stack_info = true;
    } else if (!s->have_stack_handler && die_is_named(die, "stack_handler")) {
        s->stack_handler = *die;
        s->have_stack_handler = true;
    } else if (!s->have_c_stack_link && die_is_named(die, "c_stack_link")) {
        s->c_stack_link = *die;
        s->have_c_stack_link = true;
    }
}

static bool struct_required(enum layout_struct owner);

static int find_structs(Dwarf_Die *cudie, struct cu_structs *s, struct analysis_error *err)
{
    memset(s, 0, sizeof *s);
    Dwarf_Die child;
    int r = dwarf_child(cudie, &child);
    if (r < 0) {
        analysis_error_set(err, "DWARF: cannot read runtime compilation unit: %s",
                           dwarf_errmsg(-1));
        return -1;
    }
    while (r == 0) {
        note_struct(&child, s);
        r = dwarf_siblingof(&child, &child);
    }
    if (r < 0) {
        analysis_error_set(err, "DWARF: cannot walk runtime compilation unit: %s",
                           dwarf_errmsg(-1));
        return -1;
    }
    const char *missing = !s->have_domain_state ? "caml_domain_state"
                          : !s->have_stack_info ? "struct stack_info"
                          : !s->have_stack_handler ? "struct stack_handler"
                          : !s->have_c_stack_link && struct_required(LAYOUT_C_STACK_LINK)
                              ? "struct c_stack_link" : NULL;
    if (missing != NULL) {
        analysis_error_set(err, "DWARF: %s not defined in the compilation unit of "
                           "runtime/fiber.c", missing);
        return -1;
    }
    return 0;
}

static int member_offset(Dwarf_Die *member, size_t *out, struct analysis_error *err)
{
    Dwarf_Attribute attr;
    Dwarf_Word off;
    if (dwarf_attr_integrate(member, DW_AT_data_member_location, &attr) == NULL ||
        dwarf_formudata(&attr, &off) != 0) {
        analysis_error_set(err, "DWARF: field %s has no constant offset: %s",
                           dwarf_diename(member) ? dwarf_diename(member) : "?", dwarf_errmsg(-1));
        return -1;
    }
    *out = (size_t)off;
    return 0;
}

#define FIELD(owner, strct, member, optional) \
    {owner, #member, offsetof(struct runtime_layout, strct.member), optional}

/* The last argument says whether the shim may do without the field: `false` exactly for the
 * fields the shim's code reads (required = used: tests/unit/required_bindings.sh checks the
 * shim's DS/STACK_FIELD/HANDLER_FIELD/layout uses against this table). The others are
 * read when present, for the probe's report, and never refuse a binary. */
const struct layout_field runtime_layout_fields[] = {
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, young_limit, false),
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, young_ptr, false),
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, young_start, false),
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, young_end, false),   /* chaos.c's clock */
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, current_stack, false),
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, exn_handler, false),
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, action_pending, true),
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, c_stack, false),   /* request/stall_watch.c */
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, id, false),
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, requested_external_interrupt, false),
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, memprof_young_trigger, true),
    FIELD(LAYOUT_DOMAIN_STATE, domain_state, size, false),
    FIELD(LAYOUT_STACK_INFO, stack_info, sp, false),
    FIELD(LAYOUT_STACK_INFO, stack_info, exception_ptr, true),
    FIELD(LAYOUT_STACK_INFO, stack_info, handler, false),
    FIELD(LAYOUT_STACK_INFO, stack_info, id, false),
    FIELD(LAYOUT_STACK_INFO, stack_info, size, false),
    FIELD(LAYOUT_STACK_HANDLER, stack_handler, handle_value, false),
    FIELD(LAYOUT_STACK_HANDLER, stack_handler, handle_exn, false),
    FIELD(LAYOUT_STACK_HANDLER, stack_handler, handle_effect, false),
    FIELD(LAYOUT_STACK_HANDLER, stack_handler, parent, false),
    FIELD(LAYOUT_STACK_HANDLER, stack_handler, size, false),
    FIELD(LAYOUT_C_STACK_LINK, c_stack_link, stack, true),
    FIELD(LAYOUT_C_STACK_LINK, c_stack_link, sp, false),     /* request/stall_watch.c */
    FIELD(LAYOUT_C_STACK_LINK, c_stack_link, prev, true),
    FIELD(LAYOUT_C_STACK_LINK, c_stack_link, size, true),
    {LAYOUT_STRUCT_COUNT, NULL, 0, false},
};

const char *const runtime_layout_struct_names[LAYOUT_STRUCT_COUNT] = {
    "caml_domain_state", "stack_info", "stack_handler", "c_stack_link",
};

/* Does the shim need any field of this struct? */
static bool struct_required(enum layout_struct owner)
{
    for (const struct layout_field *f = runtime_layout_fields; f->name != NULL; f++)
        if (f->owner == owner && !f->optional)
            return true;
    return false;
}

static size_t *layout_slot(struct runtime_layout *l, const struct layout_field *f)
{
    return (size_t *)((char *)l + f->offset);
}

/* `size` is the struct's sizeof, not a member (struct stack_info has a member `size`). */
static bool is_sizeof_entry(const struct layout_field *f) { return strcmp(f->name, "size") == 0; }

/* Reads the members of one struct that the field table names for `owner`. */
static int read_struct(Dwarf_Die *st, enum layout_struct owner, struct runtime_layout *out,
                       struct analysis_error *err)
{
    const char *what = runtime_layout_struct_names[owner];
    int bytes = dwarf_bytesize(st);
    if (bytes <= 0) {
        analysis_error_set(err, "DWARF: %s has no size: %s", what, dwarf_errmsg(-1));
        return -1;
    }
    const struct layout_field *f;
    for (f = runtime_layout_fields; f->name != NULL; f++)
        if (f->owner == owner)
            *layout_slot(out, f) = is_sizeof_entry(f) ? (size_t)bytes : ABSENT;
    Dwarf_Die child;
    int r = dwarf_child(st, &child);
    while (r == 0) {
        if (dwarf_tag(&child) == DW_TAG_member) {
            for (f = runtime_layout_fields; f->name != NULL; f++)
                if (f->owner == owner && !is_sizeof_entry(f) && die_is_named(&child, f->name) &&
                    member_offset(&child, layout_slot(out, f), err) != 0)
                    return -1;
        }
        r = dwarf_siblingof(&child, &child);
    }
    if (r < 0) {
        analysis_error_set(err, "DWARF: cannot read members of %s: %s", what, dwarf_errmsg(-1));
        return -1;
    }
    for (f = runtime_layout_fields; f->name != NULL; f++) {
        if (f->owner == owner && *layout_slot(out, f) == ABSENT && !f->optional) {
            analysis_error_set(err, "DWARF: %s has no field %s", what, f->name);
            return -1;
        }
    }
    return 0;
}

static int read_layout(struct cu_structs *s, struct runtime_layout *out,
                       struct analysis_error *err)
{
    Dwarf_Die *dies[LAYOUT_STRUCT_COUNT] = {
        [LAYOUT_DOMAIN_STATE] = &s->domain_state, [LAYOUT_STACK_INFO] = &s->stack_info,
        [LAYOUT_STACK_HANDLER] = &s->stack_handler,
        [LAYOUT_C_STACK_LINK] = s->have_c_stack_link ? &s->c_stack_link : NULL,
    };
    for (int owner = 0; owner < LAYOUT_STRUCT_COUNT; owner++) {
        if (dies[owner] == NULL) {        /* a struct the shim does not need: absent */
            for (const struct layout_field *f = runtime_layout_fields; f->name != NULL; f++)
                if ((int)f->owner == owner)
                    *layout_slot(out, f) = ABSENT;
        } else if (read_struct(dies[owner], (enum layout_struct)owner, out, err) != 0) {
            return -1;
        }
    }
    return 0;
}

/* The CU of runtime/fiber.c, via the address of one of its functions. */
static bool fiber_cu(const struct elf_image *img, Dwarf *dbg, Dwarf_Die *cudie)
{
    for (const char *const *a = fiber_c_anchors; *a != NULL; a++) {
        struct elf_symbol sym;
        if (elf_image_symbol(img, *a, &sym) == 0 && dwarf_addrdie(dbg, sym.value, cudie) != NULL)
            return true;
    }
    return false;
}

int runtime_layout_from_dwarf(const struct elf_image *img, struct runtime_layout *out,
                              struct analysis_error *err)
{
    memset(out, 0, sizeof *out);
    if (!elf_image_has_dwarf(img)) {
        analysis_error_set(err, "no DWARF (.debug_info) in %s", elf_image_path(img));
        return 1;
    }
    Dwarf *dbg = dwarf_begin_elf(elf_image_elf(img), DWARF_C_READ, NULL);
    if (dbg == NULL) {
        analysis_error_set(err, "DWARF: cannot read debug info of %s: %s", elf_image_path(img),
                           dwarf_errmsg(-1));
        return -1;
    }
    int rc;
    Dwarf_Die cudie;
    struct cu_structs structs;
    if (!fiber_cu(img, dbg, &cudie)) {
        analysis_error_set(err, "DWARF of %s does not cover runtime/fiber.c (runtime built "
                           "without -g?)", elf_image_path(img));
        rc = 1;
    } else if (find_structs(&cudie, &structs, err) != 0 || read_layout(&structs, out, err) != 0) {
        rc = -1;
    } else {
        out->source = LAYOUT_FROM_DWARF;
        out->builtin_name = NULL;
        rc = 0;
    }
    dwarf_end(dbg);
    return rc;
}

/* ---- plausibility -------------------------------------------------------------------- */

/* Every field the table names is one machine word (a pointer, uintnat or int64). */
#define FIELD_BYTES 8u

static size_t struct_size(const struct runtime_layout *l, enum layout_struct owner)
{
    for (const struct layout_field *f = runtime_layout_fields; f->name != NULL; f++)
        if (f->owner == owner && is_sizeof_entry(f))
            return runtime_layout_get(l, f);
    return 0;
}

/* One struct: each present field word-aligned, inside the struct, at its own offset. */
static int check_struct(const struct runtime_layout *l, enum layout_struct owner,
                        struct analysis_error *err)
{
    const char *what = runtime_layout_struct_names[owner];
    size_t size = struct_size(l, owner);
    for (const struct layout_field *f = runtime_layout_fields; f->name != NULL; f++) {
        if (f->owner != owner || is_sizeof_entry(f) || runtime_layout_get(l, f) == ABSENT)
            continue;
        size_t off = runtime_layout_get(l, f);
        if (off % FIELD_BYTES != 0 || size < FIELD_BYTES || off > size - FIELD_BYTES) {
            analysis_error_set(err, "implausible runtime layout: %s.%s at offset %zu is not "
                               "an aligned word inside the %zu-byte struct", what, f->name,
                               off, size);
            return -1;
        }
        for (const struct layout_field *g = runtime_layout_fields; g != f; g++) {
            if (g->owner == owner && !is_sizeof_entry(g) && runtime_layout_get(l, g) == off) {
                analysis_error_set(err, "implausible runtime layout: %s.%s and %s.%s are both "
                                   "at offset %zu", what, g->name, what, f->name, off);
                return -1;
            }
        }
    }
    return 0;
}

/* DWARF figures against the built-in table of the same release (the layout of a release
 * is fixed: caml_domain_state comes from domain_state.tbl, one word per field). */
static int check_against_builtin(const struct runtime_layout *l, const char *version,
                                 struct analysis_error *err)
{
    const struct runtime_layout *table = runtime_layout_builtin(version);
    if (table == NULL || l->source != LAYOUT_FROM_DWARF)
        return 0;
    for (const struct layout_field *f = runtime_layout_fields; f->name != NULL; f++) {
        size_t got = runtime_layout_get(l, f), want = runtime_layout_get(table, f);
        /* A field the shim does not use (optional) may be absent or differ without being a
           reason to refuse (required = used); present, it still passed check_struct. */
        if (got != want && !f->optional) {
            analysis_error_set(err, "implausible runtime layout: DWARF puts %s.%s at %zd, "
                               "OCaml %s has it at %zd", runtime_layout_struct_names[f->owner],
                               f->name, (ssize_t)got, table->builtin_name, (ssize_t)want);
            return -1;
        }
    }
    return 0;
}

int runtime_layout_check(const struct runtime_layout *l, const char *version,
                         struct analysis_error *err)
{
    for (int owner = 0; owner < LAYOUT_STRUCT_COUNT; owner++)
        if (check_struct(l, (enum layout_struct)owner, err) != 0)
            return -1;
    return check_against_builtin(l, version, err);
}

int runtime_layout_read(const struct elf_image *img, const struct ocaml_binary_info *info,
                        struct runtime_layout *out, struct analysis_error *err)
{
    struct analysis_error dwarf_err;
    int rc = runtime_layout_from_dwarf(img, out, &dwarf_err);
    if (rc == 0)
        return runtime_layout_check(out, info ? info->version : NULL, err);
    if (rc < 0) {
        *err = dwarf_err;
        return -1;
    }
    const struct runtime_layout *table = runtime_layout_builtin(info ? info->version : NULL);
    if (table == NULL) {
        analysis_error_set(err, "%s; and no built-in layout for OCaml version '%s' "
                           "(built-in: 5.3.0, 5.2.0, 5.1.0)", dwarf_err.msg,
                           info && info->version[0] ? info->version : "unknown");
        return -1;
    }
    *out = *table;
    return 0;
}
