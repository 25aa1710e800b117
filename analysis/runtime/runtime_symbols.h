/* runtime_symbols: are the runtime symbols the shim calls, writes or walks where they
 * claim to be?
 *
 * The shim binds functions (caml_named_value, caml_register_frametable...) and data
 * (caml_frametable, the interrupt hook) by their .symtab values, then calls or writes
 * through them; a corrupt .symtab runs fine without the shim (the program never reads its
 * own .symtab) but would send the shim anywhere. Invariant: one rule for the probe and the
 * shim (issue 9 item 9) -- every listed symbol that is present lies wholly inside the
 * image: a function inside an executable segment, a data word inside a loadable one (a
 * writable one for the hook the shim stores), a TLS word inside the TLS segment.
 * Which symbols are required is not decided here (shim/base/runtime.c does).
 */
#ifndef OCPREEMPT_RUNTIME_SYMBOLS_H
#define OCPREEMPT_RUNTIME_SYMBOLS_H

#include "elf_image.h"

/* 0, or -1 with a one-line reason naming the first misplaced symbol. */
int runtime_symbols_check(const struct elf_image *img, struct analysis_error *err);

#endif
