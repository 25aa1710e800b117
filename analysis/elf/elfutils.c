/* elfutils: see elfutils.h. */
#define ELFUTILS_NO_REDIRECT
#include "elfutils.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>

struct elfutils_functions elfutils_fn;
static bool loaded;

/* The library's soname, kept open for the life of the process. */
static void *open_library(const char *soname, char *why, size_t why_len)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        snprintf(why, why_len, "cannot load %s: %s", soname, dlerror());
    return h;
}

#define ELFUTILS_BIND(name)                                                        \
    if (ok && !(*(void **)&elfutils_fn.name = dlsym(library, #name))) {            \
        snprintf(why, why_len, "%s has no %s", soname, #name);                     \
        ok = false;                                                                \
    }

int elfutils_load(char *why, size_t why_len)
{
    if (loaded)
        return 0;
    bool ok = true;
    const char *soname = "libelf.so.1";
    void *library = open_library(soname, why, why_len);
    if (!library)
        return -1;
    ELFUTILS_LIBELF_FUNCTIONS(ELFUTILS_BIND)
    soname = "libdw.so.1";
    if (ok && !(library = open_library(soname, why, why_len)))
        return -1;
    ELFUTILS_LIBDW_FUNCTIONS(ELFUTILS_BIND)
    loaded = ok;
    return ok ? 0 : -1;
}
