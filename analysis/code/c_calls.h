/* c_calls: calls from OCaml code into C, recognised from the code before their return
 * addresses, so that time spent in C can be named (shim/request/stall_watch.c).
 *
 * ocamlopt 5.1 to 5.4 on amd64 (asmcomp/amd64/emit.mlp, Iextcall) emits an external call
 * in one of three shapes:
 *  - allocating: `lea rax, [rip+f]` (or `mov rax, [rip+slot]`, f's GOT slot, under
 *    -dlcode when the linker kept it) then `call caml_c_call`; a frame descriptor follows;
 *  - more than 6 arguments: the same load, then `call caml_c_call_stack_args` (which
 *    pushes the stack arguments below the C stack link before its `call *%rax`);
 *  - noalloc: `mov rbx, rsp; mov rsp, [r14 + c_stack]; call f`: no descriptor, no saved
 *    OCaml stack pointer, and the return address pushed just below the C stack link.
 * caml_c_call switches to the C stack, then `call *%rax`: the return address of that
 * call, pushed just below the C stack link, is the runtime's own.
 * Invariants: pure functions over code bytes; they read only the bytes they are given
 * (`end` is the byte at the return address, `before` bytes before it are readable) and
 * answer false for any other shape (never a guess).
 */
#ifndef OCPREEMPT_C_CALLS_H
#define OCPREEMPT_C_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum c_target_kind {
    C_TARGET_DIRECT,      /* `address` is the C function */
    C_TARGET_GOT_SLOT,    /* `address` is the slot that holds the C function's address */
};

struct c_call_target {
    enum c_target_kind kind;
    uint64_t address;     /* in the address space of `retaddr` */
};

/* Is the code ending at retaddr `load rax; call E` with E one of entries[0..n)? Then *out
 * is the C function (or its GOT slot). */
bool c_call_decode_external(const uint8_t *end, size_t before, uint64_t retaddr,
                            const uint64_t *entries, size_t n, struct c_call_target *out);

/* Is the code ending at retaddr a noalloc external call, `mov rsp, [r14 + c_stack_offset];
 * call f`? Then *out is f (C_TARGET_DIRECT). */
bool c_call_decode_noalloc(const uint8_t *end, size_t before, uint64_t retaddr,
                           size_t c_stack_offset, struct c_call_target *out);

/* The return address of the first `call *%rax` in the code at `entry` (caml_c_call), found
 * by a linear sweep of at most `avail` bytes (no ret or indirect jump before it). 0, or -1 if not found. */
int c_call_entry_return(const uint8_t *code, size_t avail, uint64_t entry, uint64_t *ret);

#endif
