/* ocaml_binary: is this ELF an OCaml native executable, and of which kind?
 *
 * Looks only at symbols and read-only data; never runs the program. Invariants: `kind` is
 * decided first and everything else is meaningful only for OCAML_NATIVE_5.
 */
#ifndef OCPREEMPT_OCAML_BINARY_H
#define OCPREEMPT_OCAML_BINARY_H

#include <stdbool.h>
#include "elf_image.h"

enum ocaml_binary_kind {
    NOT_OCAML,            /* e.g. /bin/true */
    OCAML_BYTECODE,       /* ocamlc output or ocamlrun-based executable */
    OCAML_NATIVE_4,       /* OCaml < 5 native code: no effects */
    OCAML_NATIVE_5,       /* what ocpreempt supports */
};

enum ocaml_runtime_variant { RUNTIME_NORMAL, RUNTIME_DEBUG, RUNTIME_INSTRUMENTED };

struct ocaml_binary_info {
    enum ocaml_binary_kind kind;
    char version[32];                     /* "5.3.0"; "" when unknown */
    enum ocaml_runtime_variant variant;
    bool frame_pointers;                  /* runtime built with --enable-frame-pointers */
    bool has_systhreads;                  /* caml_thread_initialize linked in */
};

int ocaml_binary_identify(const struct elf_image *img, struct ocaml_binary_info *out,
                          struct analysis_error *err);

/* Addition: does the file end with a bytecode executable trailer ("Caml1999X0NN")? For
 * files that are not ELF at all (ocamlc's default `#!ocamlrun` output). 1 yes (magic
 * copied, NUL-terminated, if magic != NULL), 0 no, -1 unreadable. */
int ocaml_bytecode_trailer(const char *path, char *magic, size_t magic_len);

const char *ocaml_binary_kind_name(enum ocaml_binary_kind k);
const char *ocaml_runtime_variant_name(enum ocaml_runtime_variant v);

#endif
