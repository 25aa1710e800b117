/* runtime_symbols: placement check of the runtime symbols the shim uses (see
 * runtime_symbols.h). Invariant: addresses and sizes from the file reach only
 * elf_image_in_code / elf_image_in_segment, which never wrap. */
#include "runtime_symbols.h"

#include <stdbool.h>

#include "analysis_error.h"

enum placement { IN_CODE, IN_DATA };

struct placed_symbol {
    const char *name;
    enum placement where;
};

/* Every runtime symbol the shim calls (code), or reads and writes (data). */
static const struct placed_symbol runtime_symbols[] = {
    {"caml_call_gc", IN_CODE},
    {"caml_alloc1", IN_CODE},
    {"caml_alloc2", IN_CODE},
    {"caml_alloc3", IN_CODE},
    {"caml_allocN", IN_CODE},
    {"caml_named_value", IN_CODE},
    {"caml_register_frametable", IN_CODE},
    {"caml_try_realloc_stack", IN_CODE},
    {"caml_find_frame_descr", IN_CODE},
    {"caml_get_frame_descrs", IN_CODE},
    {"caml_get_domain_state", IN_CODE},
    {"caml_ml_mutex_lock", IN_CODE},
    {"caml_ml_mutex_unlock", IN_CODE},
    {"caml_ml_mutex_try_lock", IN_CODE},
    {"caml_frametable", IN_DATA},
    {"caml_domain_external_interrupt_hook", IN_DATA},
};

static bool placed_well(const struct elf_image *img, const struct elf_symbol *sym,
                        enum placement where)
{
    if (where == IN_CODE)
        return elf_image_in_code(img, sym->value, sym->size ? sym->size : 1);
    return elf_image_in_segment(img, sym->value, 8);
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
                           (unsigned long long)sym.size,
                           p->where == IN_CODE ? "code" : "loadable segments");
        return -1;
    }
    return 0;
}
