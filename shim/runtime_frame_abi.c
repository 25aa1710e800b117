/* runtime_frame_abi: the frame-table calls into the runtime, one adapter per ABI.
 *
 * OCaml 5.3 passes its descriptor table by pointer and registers one frame table at a time;
 * 5.2 returns and passes the table itself by value (a 24-byte struct: the C compiler does
 * the hidden-pointer work once the prototype is right) and registers arrays of tables
 * (analysis/runtime_profile.h). Calling one release's function with the other's prototype
 * writes through a garbage pointer, so the prototypes live here only, and
 * runtime_bind_frame_abi() picks the pair for the bound profile once, at start-up.
 * Invariant: afterwards ocaml_rt.find_frame_descr and ocaml_rt.register_frametable are
 * never NULL and never change; find_frame_descr is called from the hook (OCaml context,
 * holding the domain), like the runtime's own callers.
 */
#include "runtime.h"

/* 5.2's caml_frame_descrs, returned and passed by value (frame_descriptors.h of 5.2; the
 * profile check confirms the 24 bytes against the binary's DWARF). */
struct frame_descrs_value {
    int num_descr;
    int mask;
    void **descriptors;
    void *frametables;
};
_Static_assert(sizeof(struct frame_descrs_value) == 24, "5.2's caml_frame_descrs");

static const void *find_frame_descr_by_pointer(uintptr_t pc)
{
    void *(*get)(void) = (void *(*)(void))ocaml_rt.runtime_get_frame_descrs;
    const void *(*find)(void *, uintptr_t) =
        (const void *(*)(void *, uintptr_t))ocaml_rt.runtime_find_frame_descr;
    return find(get(), pc);
}

static const void *find_frame_descr_by_value(uintptr_t pc)
{
    struct frame_descrs_value (*get)(void) =
        (struct frame_descrs_value (*)(void))ocaml_rt.runtime_get_frame_descrs;
    const void *(*find)(struct frame_descrs_value, uintptr_t) =
        (const void *(*)(struct frame_descrs_value, uintptr_t))ocaml_rt.runtime_find_frame_descr;
    return find(get(), pc);
}

static void register_one_table(void *table)
{
    ((void (*)(void *))ocaml_rt.runtime_register_frametable)(table);
}

/* caml_register_frametables copies the table pointers into its list before it returns. */
static void register_as_table_array(void *table)
{
    void *tables[1] = { table };
    ((void (*)(void **, int))ocaml_rt.runtime_register_frametable)(tables, 1);
}

void runtime_bind_frame_abi(const struct runtime_profile *p)
{
    ocaml_rt.find_frame_descr = p->frame_descrs == FRAME_DESCRS_BY_POINTER
                                    ? find_frame_descr_by_pointer : find_frame_descr_by_value;
    ocaml_rt.register_frametable = p->registration == REGISTER_ONE_TABLE
                                       ? register_one_table : register_as_table_array;
}
