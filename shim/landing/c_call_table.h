/* c_call_table: the program's calls from OCaml into C, for naming the C function a domain
 * is stuck in (request/stall_watch.c; analysis/code/c_calls.h has the code shapes).
 *
 * Built at start-up, only when stats are asked for: c_call_table_prepare finds the
 * runtime's own return address inside caml_c_call, the site
 * table's walk over every frame descriptor hands each ordinary call's return address to
 * c_call_table_note (an allocating external call has a descriptor), and
 * c_call_table_seal sorts them. From then on read-only: any thread may ask.
 * Addresses are run-time. A noalloc call has no descriptor: it is recognised from its code
 * when asked (c_call_table_noalloc), only inside the executable's mapped code.
 */
#ifndef OCPREEMPT_C_CALL_TABLE_H
#define OCPREEMPT_C_CALL_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "elf_image.h"

/* Start-up, before site_table_build. Best effort: without caml_c_call's return address the
 * table stays empty (every time in C is then unnamed). Externals of more than 6 arguments
 * (caml_c_call_stack_args, which pushes arguments below the C stack link) stay unnamed. */
void c_call_table_prepare(const struct elf_image *img);

/* Start-up: an ordinary call's return address (from the site table's walk). */
void c_call_table_note(uintptr_t retaddr);

/* Start-up, after the walk. */
void c_call_table_seal(void);

/* Is w the return address of caml_c_call's call into C? */
bool c_call_table_is_runtime_c_call(uintptr_t w);

/* The C function that the external call returning to OCaml at retaddr calls; 0 if
 * retaddr is no such call (or its GOT slot could not be read). */
uintptr_t c_call_table_external(uintptr_t retaddr);

/* The C function called by a noalloc call whose return address is w, in the executable's
 * code; 0 if the code before w is not such a call. */
uintptr_t c_call_table_noalloc(uintptr_t w);

#endif
