/* runtime_layout: the OCaml 5 runtime structure offsets the shim relies on.
 *
 * Read from the binary's DWARF (the runtime is compiled with -g) when present, else from a
 * built-in table for the detected OCaml version. Invariants:
 *  - a layout is returned only if it passed runtime_layout_check();
 *  - a field the shim uses that cannot be found is an error (-1), never a guess; the
 *    fields it does not use are read when present, for the probe, and may be absent;
 *  - `source` says where the figures came from, so the probe can report it;
 *  - every offset is in bytes from the start of the named struct.
 */
#ifndef OCPREEMPT_RUNTIME_LAYOUT_H
#define OCPREEMPT_RUNTIME_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include "elf_image.h"
#include "ocaml_binary.h"

enum layout_source { LAYOUT_FROM_DWARF, LAYOUT_BUILTIN };

struct runtime_layout {
    enum layout_source source;
    const char *builtin_name;       /* e.g. "5.3.0" when source == LAYOUT_BUILTIN */

    struct {                        /* caml_domain_state */
        size_t young_limit, young_ptr, young_start, young_end;
        size_t current_stack, exn_handler, action_pending;
        size_t c_stack;             /* the thread's C stack link: the word below it is
                                       the return address of the last entry into C */
        size_t requested_external_interrupt, memprof_young_trigger, id;
                                    /* memprof_young_trigger is (size_t)-1 when the
                                       runtime has no such field (OCaml < 5.2: 5.1.4) */
        size_t size;
    } domain_state;
    struct {                        /* struct stack_info */
        size_t sp, exception_ptr, handler, id, size;  /* size = sizeof: Stack_base = info + size;
                                                         id: the fiber's unique id (int64) */
    } stack_info;
    struct {                        /* struct stack_handler */
        size_t handle_value, handle_exn, handle_effect, parent, size;
    } stack_handler;
    struct {                        /* struct c_stack_link */
        size_t stack, sp, prev, size;
    } c_stack_link;
};

/* Every field above, once: the DWARF reader, the probe's text and JSON reports walk this
 * table, so a field added here is read and reported everywhere. Grouped by struct, in
 * order; the name list ends with NULL. `size` entries are the structs' sizeof. */
enum layout_struct {
    LAYOUT_DOMAIN_STATE, LAYOUT_STACK_INFO, LAYOUT_STACK_HANDLER, LAYOUT_C_STACK_LINK,
    LAYOUT_STRUCT_COUNT,
};
struct layout_field {
    enum layout_struct owner;
    const char *name;             /* the C member name, or "size" */
    size_t offset;                /* of the slot within struct runtime_layout */
    bool optional;                /* not used by the shim: may be absent (reads as
                                     (size_t)-1), never a reason to refuse a binary */
};
extern const struct layout_field runtime_layout_fields[];
extern const char *const runtime_layout_struct_names[LAYOUT_STRUCT_COUNT]; /* DWARF names */

static inline size_t runtime_layout_get(const struct runtime_layout *l,
                                        const struct layout_field *f)
{
    return *(const size_t *)((const char *)l + f->offset);
}

/* Fills *out from DWARF if the image has it, else from the built-in table matching
 * info->version. Returns 0, or -1 with err set (no DWARF and no table for the version, or
 * a struct/field missing from DWARF). */
int runtime_layout_read(const struct elf_image *img, const struct ocaml_binary_info *info,
                        struct runtime_layout *out, struct analysis_error *err);

/* Plausibility of a layout before anything writes through it (issue 9 item 9): every
 * present field an 8-byte-aligned word inside its struct's size, no two fields of a struct
 * at the same offset, and, for a DWARF layout of a release with a built-in table, every
 * figure equal to that table. 0, or -1 with a one-line reason naming the field.
 * runtime_layout_read() applies it, so the probe and the shim refuse the same layouts. */
int runtime_layout_check(const struct runtime_layout *l, const char *version,
                         struct analysis_error *err);

/* The built-in table for an OCaml version ("5.3.0", "5.2.0", "5.1.0"), or NULL. A "+suffix"
 * (e.g. "5.3.0+fp") is ignored; any other version, including other patch releases, has
 * no table. "5.1.4" is accepted as an alias of "5.1.0": npm's ocaml@5.1.4 package, which
 * scripts/setup-ocaml.sh builds, is OCaml 5.1.0 (Sys.ocaml_version = "5.1.0"). */
const struct runtime_layout *runtime_layout_builtin(const char *version);

/* Addition: DWARF only, no fallback (used by runtime_layout_read and by the test that
 * checks the built-in tables). 0 read; 1 the image has no DWARF for the runtime (err says
 * why); -1 DWARF is there but unreadable or lacks a struct/field (err names it). */
int runtime_layout_from_dwarf(const struct elf_image *img, struct runtime_layout *out,
                              struct analysis_error *err);

#endif
