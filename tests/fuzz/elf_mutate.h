/* elf_mutate: doctored copies of real executables, for the hardening tests and the fuzz
 * drivers (test code, never linked into the probe or the shim).
 *
 * A blob is a whole file in memory. Locators find the file offset of one thing a reader
 * trusts (a relocation's r_offset, a .symtab value, a frame descriptor's return address, a
 * DWARF member offset); mutations overwrite bytes there. Invariants: locators parse with
 * libelf/libdw on the ORIGINAL file (never on a mutant), report absence as -1, and never
 * write; every write stays inside the blob.
 */
#ifndef OCPREEMPT_ELF_MUTATE_H
#define OCPREEMPT_ELF_MUTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blob {
    uint8_t *bytes;
    size_t size;
};

/* Whole file into memory / out to `path` (mode 0755). 0 or -1 (errno). */
int blob_load(const char *path, struct blob *b);
int blob_save(const struct blob *b, size_t len, const char *path);
void blob_free(struct blob *b);

/* Writes `len` bytes of `value` (little-endian) at `offset` if they fit. 0 or -1. */
int blob_put(struct blob *b, long offset, uint64_t value, size_t len);

/* ---- locators (on the original file `path`) ----------------------------------------- */

/* File offset of link-time address vaddr through the program headers, or -1. */
long mutate_vaddr_offset(const char *path, uint64_t vaddr);

/* Start of PT_GNU_RELRO (writable segment, read-only after relocation), or 0. */
uint64_t mutate_relro_start(const char *path);

/* End (vaddr + memsz) of the highest loadable segment, or 0. */
uint64_t mutate_image_end(const char *path);

/* File offset of st_value (field 0) or st_size (field 1) of .symtab's `name` (the first
 * symbol starting with it when `name` ends with '*'), or -1. */
long mutate_symbol_field(const char *path, const char *name, int field);

/* File offset of the r_offset of the n-th R_X86_64_RELATIVE entry of the SHF_ALLOC
 * SHT_RELA sections, or -1; *total (if not NULL) gets how many there are. */
long mutate_relative_reloc(const char *path, size_t n, size_t *total);

/* File offset of the RELATIVE entry whose r_offset is vaddr (in a PIE, every pointer in
 * data has one, and the loader writes its addend over the file's value), or -1. */
long mutate_relative_reloc_at(const char *path, uint64_t vaddr);

/* File offset and size of section number `index` (1..count-1) / of the section `name`;
 * -1 when absent or SHT_NOBITS. mutate_section_count gives e_shnum (0 on error). */
size_t mutate_section_count(const char *path);
long mutate_section(const char *path, size_t index, size_t *size, char *name, size_t name_len);
long mutate_section_named(const char *path, const char *name, size_t *size);

/* Link-time address of the return-address word of the first poll/allocation descriptor
 * whose return address lies in a function whose symbol starts with `prefix`, or 0. */
uint64_t mutate_safepoint_retaddr(const char *path, const char *prefix);

/* Link-time addresses of the return-address words of (up to max) descriptors of every
 * kind but return-to-C, in table order. Returns how many. */
size_t mutate_descriptor_words(const char *path, uint64_t *words, size_t max);

/* File offsets of DW_AT_data_member_location of caml_domain_state.`member` in every
 * compilation unit that defines it (up to max), with the size of each form's value.
 * Returns how many were found (0 when none, or .debug_info is compressed). */
size_t mutate_layout_member(const char *path, const char *member, long *offsets,
                            size_t *value_bytes, size_t max);

#endif
