/* site_shape: does the code around a safe point have the shape the injector relies on?
 *
 * The shim resumes a preempted site by jumping to its original return address, so it needs
 * that address to be the return of a direct `call caml_call_gc` (then a `jmp` back into the
 * function, emit_call_gc in asmcomp/amd64/emit.mlp), or of `call caml_allocN` in -compact
 * code. Anything else is refused. Pure function over bytes.
 */
#ifndef OCPREEMPT_SITE_SHAPE_H
#define OCPREEMPT_SITE_SHAPE_H

#include <stdint.h>

enum site_shape {
    SHAPE_CALL_GC_THEN_JMP,     /* e8 <caml_call_gc> at retaddr-5, jmp (e9/eb) at retaddr */
    SHAPE_CALL_ALLOCN,          /* e8 <caml_alloc1|2|3|N> at retaddr-5 (-compact) */
    SHAPE_UNRECOGNISED,
};

struct site_targets {           /* link-time (file) or run-time addresses, consistently */
    uint64_t call_gc, alloc1, alloc2, alloc3, allocN;
};

/* code points at the 5 bytes before retaddr followed by at least 2 bytes at retaddr
 * (code[0] is the byte at retaddr - 5). */
enum site_shape site_shape_classify(const uint8_t code[7], uint64_t retaddr,
                                    const struct site_targets *t);

const char *site_shape_name(enum site_shape s);

#endif
