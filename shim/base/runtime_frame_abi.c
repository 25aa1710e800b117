/* runtime_frame_abi: the frame-table calls into the runtime, one adapter per ABI.
 *
 * OCaml 5.3 passes its descriptor table by pointer and registers one frame table at a time;
 * 5.2 returns and passes the table itself by value (a 24-byte struct: the C compiler does
 * the hidden-pointer work once the prototype is right) and registers arrays of tables
 * (analysis/runtime/runtime_profile.h). Calling one release's function with the other's prototype
 * writes through a garbage pointer, so the prototypes live here only, and
 * frame_abi_bind() picks the pair for the bound profile once, at start-up, from the runtime
 * functions' addresses it is handed (this unit reads no binding of runtime.c: it lies below
 * it). Invariant: afterwards the adapters it returned are never NULL and never change; the
 * lookup is called from the hook (OCaml context, holding the domain), like the runtime's
 * own callers.
 */
#include "runtime_frame_abi.h"

/* The runtime's functions, as bound (frame_abi_bind): written once before any adapter runs. */
static uintptr_t get_frame_descrs, find_frame_descr, register_frametable;

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
    void *(*get)(void) = (void *(*)(void))get_frame_descrs;
    const void *(*find)(void *, uintptr_t) =
        (const void *(*)(void *, uintptr_t))find_frame_descr;
    return find(get(), pc);
}

static const void *find_frame_descr_by_value(uintptr_t pc)
{
    struct frame_descrs_value (*get)(void) =
        (struct frame_descrs_value (*)(void))get_frame_descrs;
    const void *(*find)(struct frame_descrs_value, uintptr_t) =
        (const void *(*)(struct frame_descrs_value, uintptr_t))find_frame_descr;
    return find(get(), pc);
}

static void register_one_table(void *table)
{
    ((void (*)(void *))register_frametable)(table);
}

/* caml_register_frametables copies the table pointers into its list before it returns. */
static void register_as_table_array(void *table)
{
    void *tables[1] = { table };
    ((void (*)(void **, int))register_frametable)(tables, 1);
}

void frame_abi_bind(const struct runtime_profile *p, const struct frame_abi_functions *runtime,
                    struct frame_abi_adapters *out)
{
    get_frame_descrs = runtime->get_frame_descrs;
    find_frame_descr = runtime->find_frame_descr;
    register_frametable = runtime->register_frametable;
    out->find_frame_descr = p->frame_descrs == FRAME_DESCRS_BY_POINTER
                                ? find_frame_descr_by_pointer : find_frame_descr_by_value;
    out->register_frametable = p->registration == REGISTER_ONE_TABLE
                                   ? register_one_table : register_as_table_array;
}
