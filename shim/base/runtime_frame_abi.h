/* runtime_frame_abi: the frame-table calls into the runtime, one adapter per release's ABI
 * (runtime_frame_abi.c says why the prototypes live there only). Bound once at start-up
 * by runtime.c, which stores the adapters in ocaml_rt. */
#ifndef OCPREEMPT_RUNTIME_FRAME_ABI_H
#define OCPREEMPT_RUNTIME_FRAME_ABI_H

#include <stdint.h>

#include "runtime_profile.h"

/* The runtime's own functions, by address: caml_get_frame_descrs, caml_find_frame_descr,
 * caml_register_frametable (5.3) or caml_register_frametables (5.2). */
struct frame_abi_functions {
    uintptr_t get_frame_descrs, find_frame_descr, register_frametable;
};

struct frame_abi_adapters {
    const void *(*find_frame_descr)(uintptr_t pc);  /* the runtime's descriptor of pc, or NULL */
    void (*register_frametable)(void *table);       /* registers one table (a stop-the-world) */
};

/* The adapters of p's frame-table ABI over `runtime`'s functions. */
void frame_abi_bind(const struct runtime_profile *p, const struct frame_abi_functions *runtime,
                    struct frame_abi_adapters *out);

#endif
