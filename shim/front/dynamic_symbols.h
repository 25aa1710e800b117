/* dynamic_symbols: the main program's dynamic symbol table, as the dynamic linker mapped
 * it, for the front's "anything to do here?" decision (front.c).
 *
 * Nothing here opens a file, allocates, or walks the whole table: lookups go through the
 * program's own hash table (DT_GNU_HASH, else DT_HASH), touching a few cache lines. Only
 * names the program exports are seen: OCaml links native executables with -Wl,-E, so the
 * runtime's symbols and every OCaml function are in .dynsym (docs/design.md, "Start-up").
 * Invariants: every address returned is a run-time address (load bias applied); a table
 * that cannot be read (no PT_DYNAMIC, no hash table) is reported, never guessed at.
 */
#ifndef OCPREEMPT_DYNAMIC_SYMBOLS_H
#define OCPREEMPT_DYNAMIC_SYMBOLS_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DYNAMIC_SYMBOLS_MAX_SEGMENTS 16

struct dynamic_symbols {
    uintptr_t bias;
    struct { uintptr_t start, end; } readable[DYNAMIC_SYMBOLS_MAX_SEGMENTS];  /* PT_LOAD, R */
    size_t readable_count;
    const Elf64_Sym *symtab;
    const char *strtab;
    size_t strtab_size;
    const uint32_t *gnu_hash;      /* DT_GNU_HASH, or NULL */
    const uint32_t *sysv_hash;     /* DT_HASH, or NULL */
};

/* The main program's table. 0, or -1 (no dynamic section or no hash table: a static
 * program, which LD_PRELOAD never reaches anyway, or a stripped-down one). */
int dynamic_symbols_of_program(struct dynamic_symbols *out);

/* Does [addr, addr + len) lie inside one readable loadable segment of the program? For
 * data found through a symbol, whose extent the symbol does not give. */
bool dynamic_symbols_readable(const struct dynamic_symbols *d, const void *addr, size_t len);

/* Run-time address of the defined symbol `name` (and its size), or NULL. */
const void *dynamic_symbols_find(const struct dynamic_symbols *d, const char *name,
                                 size_t *size);

#endif
