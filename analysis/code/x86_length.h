/* x86_length: the length of one x86-64 instruction, and where it branches.
 *
 * Enough of the encoding for what ocamlopt emits (integer, SSE2/SSE4.1 scalar, x87 never,
 * AVX never): legacy prefixes, REX, one-byte, 0F, 0F 38 and 0F 3A maps, ModRM/SIB/
 * displacement, immediates. Pure function over bytes. Invariants: never reads past
 * `avail`; an encoding it does not know (VEX/EVEX, invalid opcodes) is -1, never a guess,
 * so a caller that must be sure of instruction boundaries can give up on the function.
 */
#ifndef OCPREEMPT_X86_LENGTH_H
#define OCPREEMPT_X86_LENGTH_H

#include <stddef.h>
#include <stdint.h>

enum x86_flow {
    X86_FLOW_NONE,        /* falls through */
    X86_FLOW_JMP,         /* jmp rel8/rel32 */
    X86_FLOW_JCC,         /* conditional jump rel8/rel32 (jcc, loop, jrcxz) */
    X86_FLOW_CALL,        /* call rel32 */
    X86_FLOW_OTHER,       /* ret, indirect jmp/call, ud2, int3, hlt */
};

struct x86_insn {
    size_t length;
    enum x86_flow flow;
    int64_t displacement; /* JMP/JCC/CALL: target = address + length + displacement */
};

/* Decodes the instruction at p. 0, or -1 if unknown or truncated. */
int x86_decode(const uint8_t *p, size_t avail, struct x86_insn *out);

#endif
