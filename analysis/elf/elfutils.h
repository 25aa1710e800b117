/* elfutils: libelf and libdw, loaded when the first ELF image is opened (dlopen), not
 * when the object that holds the analysis is loaded.
 *
 * The shim's engine restores a warm start from the analysis cache without reading the
 * executable (shim/base/cache_store.h): it must not pay for loading libelf, libdw and
 * their compression libraries (~0.3 ms of CPU at every start, measured) when it will call
 * none of them. Every analysis file that calls them includes this header instead of
 * theirs; each call goes through a table elfutils_load fills once.
 * Invariants: elfutils_load runs before any other call here (elf_image_open makes it: every
 * libelf and libdw use starts from an open image); it is idempotent, start-up context
 * only; a library that cannot be loaded is a one-line error, never a crash.
 */
#ifndef OCPREEMPT_ELFUTILS_H
#define OCPREEMPT_ELFUTILS_H

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>

#define ELFUTILS_LIBELF_FUNCTIONS(X) \
    X(elf_begin) \
    X(elf_end) \
    X(elf_errmsg) \
    X(elf_getdata) \
    X(elf_getphdrnum) \
    X(elf_getscn) \
    X(elf_getshdrstrndx) \
    X(elf_kind) \
    X(elf_ndxscn) \
    X(elf_nextscn) \
    X(elf_rawfile) \
    X(elf_strptr) \
    X(elf_version) \
    X(gelf_getclass) \
    X(gelf_getehdr) \
    X(gelf_getphdr) \
    X(gelf_getshdr) \

#define ELFUTILS_LIBDW_FUNCTIONS(X) \
    X(dwarf_addrdie) \
    X(dwarf_attr) \
    X(dwarf_attr_integrate) \
    X(dwarf_begin_elf) \
    X(dwarf_bytesize) \
    X(dwarf_child) \
    X(dwarf_diename) \
    X(dwarf_end) \
    X(dwarf_errmsg) \
    X(dwarf_formref_die) \
    X(dwarf_formudata) \
    X(dwarf_getsrc_die) \
    X(dwarf_hasattr) \
    X(dwarf_lineno) \
    X(dwarf_linesrc) \
    X(dwarf_siblingof) \
    X(dwarf_tag) \

struct elfutils_functions {
#define ELFUTILS_FIELD(name) __typeof__(name) *name;
    ELFUTILS_LIBELF_FUNCTIONS(ELFUTILS_FIELD)
    ELFUTILS_LIBDW_FUNCTIONS(ELFUTILS_FIELD)
#undef ELFUTILS_FIELD
};
extern struct elfutils_functions elfutils_fn;

/* 0 once both libraries are loaded and every function found; -1 with why otherwise. */
int elfutils_load(char *why, size_t why_len);

#ifndef ELFUTILS_NO_REDIRECT            /* elfutils.c: the loader itself */
#define elf_begin (*elfutils_fn.elf_begin)
#define elf_end (*elfutils_fn.elf_end)
#define elf_errmsg (*elfutils_fn.elf_errmsg)
#define elf_getdata (*elfutils_fn.elf_getdata)
#define elf_getphdrnum (*elfutils_fn.elf_getphdrnum)
#define elf_getscn (*elfutils_fn.elf_getscn)
#define elf_getshdrstrndx (*elfutils_fn.elf_getshdrstrndx)
#define elf_kind (*elfutils_fn.elf_kind)
#define elf_ndxscn (*elfutils_fn.elf_ndxscn)
#define elf_nextscn (*elfutils_fn.elf_nextscn)
#define elf_rawfile (*elfutils_fn.elf_rawfile)
#define elf_strptr (*elfutils_fn.elf_strptr)
#define elf_version (*elfutils_fn.elf_version)
#define gelf_getclass (*elfutils_fn.gelf_getclass)
#define gelf_getehdr (*elfutils_fn.gelf_getehdr)
#define gelf_getphdr (*elfutils_fn.gelf_getphdr)
#define gelf_getshdr (*elfutils_fn.gelf_getshdr)
#define dwarf_addrdie (*elfutils_fn.dwarf_addrdie)
#define dwarf_attr (*elfutils_fn.dwarf_attr)
#define dwarf_attr_integrate (*elfutils_fn.dwarf_attr_integrate)
#define dwarf_begin_elf (*elfutils_fn.dwarf_begin_elf)
#define dwarf_bytesize (*elfutils_fn.dwarf_bytesize)
#define dwarf_child (*elfutils_fn.dwarf_child)
#define dwarf_diename (*elfutils_fn.dwarf_diename)
#define dwarf_end (*elfutils_fn.dwarf_end)
#define dwarf_errmsg (*elfutils_fn.dwarf_errmsg)
#define dwarf_formref_die (*elfutils_fn.dwarf_formref_die)
#define dwarf_formudata (*elfutils_fn.dwarf_formudata)
#define dwarf_getsrc_die (*elfutils_fn.dwarf_getsrc_die)
#define dwarf_hasattr (*elfutils_fn.dwarf_hasattr)
#define dwarf_lineno (*elfutils_fn.dwarf_lineno)
#define dwarf_linesrc (*elfutils_fn.dwarf_linesrc)
#define dwarf_siblingof (*elfutils_fn.dwarf_siblingof)
#define dwarf_tag (*elfutils_fn.dwarf_tag)
#endif

#endif
