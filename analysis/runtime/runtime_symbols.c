/* runtime_symbols: placement check of the runtime symbols the shim uses (see
 * runtime_symbols.h). Invariant: addresses and sizes from the file reach only
 * elf_image_in_code / elf_image_in_segment, which never wrap. */
#include "runtime_symbols.h"

#include <stdbool.h>

#include "analysis_error.h"

enum placement { IN_CODE, IN_DATA, IN_WRITABLE, IN_TLS };

struct placed_symbol {
    const char *name;
    enum placement where;
};

/* Every runtime symbol the shim calls (code), reads (data), writes (writable) or indexes
 * its threads' TLS blocks with (TLS: st_value is an offset in the TLS segment). */
static const struct placed_symbol runtime_symbols[] = {
    {"caml_call_gc", IN_CODE},
    {"caml_alloc1", IN_CODE},
    {"caml_alloc2", IN_CODE},
    {"caml_alloc3", IN_CODE},
    {"caml_allocN", IN_CODE},
    {"caml_named_value", IN_CODE},
    {"caml_register_frametable", IN_CODE},
    {"caml_register_frametables", IN_CODE},   /* 5.2's only registration (runtime_profile.h) */
    {"caml_try_realloc_stack", IN_CODE},
    {"caml_find_frame_descr", IN_CODE},
    {"caml_get_frame_descrs", IN_CODE},
    {"caml_get_domain_state", IN_CODE},
    {"caml_ml_mutex_lock", IN_CODE},
    {"caml_ml_mutex_unlock", IN_CODE},
    {"caml_ml_mutex_try_lock", IN_CODE},
    {"caml_resume", IN_CODE},              /* the shim reads and patches their first */
    {"caml_runstack", IN_CODE},            /* instructions (shim/request/switch_hook.c) */
    {"caml_frametable", IN_DATA},
    {"caml_domain_external_interrupt_hook", IN_WRITABLE},   /* the shim stores its hook */
    {"caml_leave_blocking_section_hook", IN_WRITABLE},      /* and chains these two */
    {"caml_enter_blocking_section_hook", IN_WRITABLE},
    {"caml_minor_gc_end_hook", IN_WRITABLE},   /* chained by the self-clock */
    {"caml_state", IN_TLS},                /* the shim reads each thread's slot */
};

static const char *const placement_names[] = {
    [IN_CODE] = "code", [IN_DATA] = "loadable segments", [IN_WRITABLE] = "writable segments",
    [IN_TLS] = "TLS segment",
};

static bool placed_well(const struct elf_image *img, const struct elf_symbol *sym,
                        enum placement where)
{
    switch (where) {
    case IN_CODE: return elf_image_in_code(img, sym->value, sym->size ? sym->size : 1);
    case IN_DATA: return elf_image_in_segment(img, sym->value, 8);
    case IN_WRITABLE: return elf_image_in_writable(img, sym->value, 8);
    case IN_TLS: return elf_image_in_tls(img, sym->value, 8);
    }
    return false;
}

int runtime_symbols_check(const struct elf_image *img, struct analysis_error *err)
{
    for (size_t i = 0; i < sizeof runtime_symbols / sizeof runtime_symbols[0]; i++) {
        const struct placed_symbol *p = &runtime_symbols[i];
        struct elf_symbol sym;
        if (elf_image_symbol(img, p->name, &sym) != 0 || placed_well(img, &sym, p->where))
            continue;
        analysis_error_set(err, "corrupt symbol table: %s at 0x%llx (+%llu) lies outside the "
                           "executable's %s", p->name, (unsigned long long)sym.value,
                           (unsigned long long)sym.size, placement_names[p->where]);
        return -1;
    }
    return 0;
}
