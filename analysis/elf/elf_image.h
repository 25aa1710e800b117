/* elf_image: a read-only view of one ELF file through libelf.
 *
 * Shared by ocpreempt-probe (which never runs the program) and the shim (which opens
 * /proc/self/exe once at start-up). Invariants:
 *  - nothing here executes or maps the program for execution; it only reads the file;
 *  - every libelf failure is returned as -1 with a one-line reason in `err`, never printed;
 *  - addresses are link-time virtual addresses (for a PIE add the load bias yourself);
 *  - bytes read through elf_image_read() have R_X86_64_RELATIVE relocations applied, so
 *    pointer-sized words in data (frame tables, closures) read as their link-time value.
 */
#ifndef OCPREEMPT_ELF_IMAGE_H
#define OCPREEMPT_ELF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis_error.h"

struct elf_image;

enum elf_symbol_kind { ELF_SYMBOL_FUNC, ELF_SYMBOL_OBJECT, ELF_SYMBOL_TLS, ELF_SYMBOL_OTHER };

struct elf_symbol {
    const char *name;     /* valid while the image is open */
    uint64_t value;       /* link-time address (TLS: offset in the TLS segment) */
    uint64_t size;
    enum elf_symbol_kind kind;
    bool global;
};

/* Returns 0, or -1 with err set (unreadable file, not ELF, truncated, not x86-64...). */
int elf_image_open(const char *path, struct elf_image **out, struct analysis_error *err);
void elf_image_close(struct elf_image *img);

const char *elf_image_path(const struct elf_image *img);
bool elf_image_is_pie(const struct elf_image *img);          /* ET_DYN with PT_INTERP */
bool elf_image_has_symtab(const struct elf_image *img);      /* false when stripped */
/* Has a PT_INTERP, i.e. runs under the dynamic loader, which is what honours LD_PRELOAD:
 * false for a statically linked executable (static-pie included). */
bool elf_image_is_dynamic(const struct elf_image *img);
/* Is `name` a defined symbol of .dynsym (what the dynamic loader, and the shim's front,
 * can see of a running program)? */
bool elf_image_exports(const struct elf_image *img, const char *name);
bool elf_image_has_dwarf(const struct elf_image *img);       /* .debug_info present */

/* Exact-name lookup over .symtab then .dynsym. 0 found, -1 not found. */
int elf_image_symbol(const struct elf_image *img, const char *name, struct elf_symbol *out);

/* Calls visit for every defined symbol; stops early and returns visit's value when it is
 * non-zero, else returns 0. */
typedef int (*elf_symbol_visit)(const struct elf_symbol *sym, void *ctx);
int elf_image_each_symbol(const struct elf_image *img, elf_symbol_visit visit, void *ctx);

/* The symbol containing addr (value <= addr < value + size, or the nearest preceding
 * function symbol when sizes are 0). 0 found, -1 none. The first call builds an address
 * index inside the image (a cache, hence const): make it before sharing the image
 * between threads. */
int elf_image_symbol_at(const struct elf_image *img, uint64_t addr, struct elf_symbol *out);

/* Copies len bytes at link-time address vaddr (relocated, see above). .bss reads as
 * zeroes. Returns 0, or -1 if any byte lies outside the file's loadable segments. */
int elf_image_read(const struct elf_image *img, uint64_t vaddr, void *buf, size_t len);

/* PT_TLS of the image: memsz and align; 0, or -1 when the image has no TLS segment. */
int elf_image_tls(const struct elf_image *img, uint64_t *memsz, uint64_t *align);

/* The libelf handle and file descriptor, for libdw (runtime_layout.c). */
struct Elf *elf_image_elf(const struct elf_image *img);

/* Additions (ocpreempt-probe and the frame-table walk): */

/* Zero-copy pointer to len file-backed bytes at vaddr, WITHOUT relocations applied: for
 * code, which has none. NULL if the range is not wholly file-backed in one segment. */
const uint8_t *elf_image_code(const struct elf_image *img, uint64_t vaddr, size_t len);

/* Is all of [vaddr, vaddr + len) file-backed bytes of one executable (PF_X) loadable
 * segment? The test every code address read from the file passes before anything reads
 * code there, in the probe (from the file) and in the shim (from memory): the rule is
 * this one function, so both give the same verdict. Never wraps, whatever the inputs. */
bool elf_image_in_code(const struct elf_image *img, uint64_t vaddr, uint64_t len);

/* Is all of [vaddr, vaddr + len) inside one loadable segment (memsz, .bss included)? /
 * one that is writable (PF_W) and outside PT_GNU_RELRO? / is [offset, offset + len) inside
 * the TLS segment? */
bool elf_image_in_segment(const struct elf_image *img, uint64_t vaddr, uint64_t len);
bool elf_image_in_writable(const struct elf_image *img, uint64_t vaddr, uint64_t len);
bool elf_image_in_tls(const struct elf_image *img, uint64_t offset, uint64_t len);

/* End (vaddr + memsz) of the loadable segment holding vaddr. 0, or -1 if none. */
int elf_image_segment_end(const struct elf_image *img, uint64_t vaddr, uint64_t *end);

/* Number of RELATIVE relocations elf_image_read() has to apply because the file holds
 * zero (lld) rather than the value (GNU ld) at their place. */
size_t elf_image_pending_relocs(const struct elf_image *img);

#endif
