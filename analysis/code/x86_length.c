/* x86_length: see x86_length.h. Opcode properties are tables indexed by the opcode byte:
 * whether a ModRM byte follows, and the immediate's size class. */
#include "x86_length.h"

#include <stdbool.h>
#include <string.h>

enum imm { I0, I8, I16, IZ /* 16 with 0x66, else 32 */, IV /* 16/32/64 (REX.W) */,
           I16_8 /* enter */, IBAD };

/* One-byte map: 'M' ModRM, '.' none, 'X' unknown to us (invalid in 64-bit mode, VEX,
 * prefixes handled elsewhere). */
static const char map1_modrm[257] =
    /*        0123456789ABCDEF */
    /* 0 */ "MMMM..XXMMMM..X."   /* 0F: escape, handled before */
    /* 1 */ "MMMM..XXMMMM..XX"
    /* 2 */ "MMMM..XXMMMM..XX"
    /* 3 */ "MMMM..XXMMMM..XX"
    /* 4 */ "XXXXXXXXXXXXXXXX"   /* REX, handled before */
    /* 5 */ "................"
    /* 6 */ "XXXMXXXX.M.M...."
    /* 7 */ "................"
    /* 8 */ "MMXMMMMMMMMMMMMM"
    /* 9 */ "..........X....."
    /* A */ "................"
    /* B */ "................"
    /* C */ "MM..XXMM........"
    /* D */ "MMMMXXX.MMMMMMMM"
    /* E */ "..........X....."
    /* F */ "X.XX..MM......MM";

static enum imm map1_imm(uint8_t op, uint8_t modrm_reg)
{
    if (op < 0x40) {
        switch (op & 7) {
        case 4: return I8;
        case 5: return IZ;
        default: return I0;
        }
    }
    switch (op) {
    case 0x68: case 0x69: return IZ;
    case 0x6A: case 0x6B: return I8;
    case 0x80: case 0x83: return I8;
    case 0x81: return IZ;
    case 0xA8: return I8;
    case 0xA9: return IZ;
    case 0xC0: case 0xC1: case 0xC6: case 0xCD: return I8;
    case 0xC7: return IZ;
    case 0xC2: case 0xCA: return I16;
    case 0xC8: return I16_8;
    case 0xE4: case 0xE5: case 0xE6: case 0xE7: return I8;
    case 0xF6: return modrm_reg <= 1 ? I8 : I0;
    case 0xF7: return modrm_reg <= 1 ? IZ : I0;
    default: break;
    }
    if (op >= 0xB0 && op <= 0xB7)
        return I8;
    if (op >= 0xB8 && op <= 0xBF)
        return IV;
    if (op >= 0xA0 && op <= 0xA3)
        return IBAD;      /* moffs: never emitted by ocamlopt; refuse rather than size */
    return I0;
}

/* Two-byte map (0F xx): which have no ModRM; which take an imm8. */
static bool map2_no_modrm(uint8_t op)
{
    switch (op) {
    case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0B:
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x37:
    case 0x77: case 0xA0: case 0xA1: case 0xA2: case 0xA8: case 0xA9: case 0xAA:
        return true;
    default:
        return (op >= 0x80 && op <= 0x8F) || (op >= 0xC8 && op <= 0xCF);
    }
}

static bool map2_imm8(uint8_t op)
{
    return (op >= 0x70 && op <= 0x73) || op == 0xA4 || op == 0xAC || op == 0xBA ||
           op == 0xC2 || op == 0xC4 || op == 0xC5 || op == 0xC6;
}

static bool is_legacy_prefix(uint8_t b)
{
    switch (b) {
    case 0xF0: case 0xF2: case 0xF3: case 0x2E: case 0x36: case 0x3E: case 0x26:
    case 0x64: case 0x65: case 0x66: case 0x67:
        return true;
    default:
        return false;
    }
}

/* Bytes of ModRM + SIB + displacement starting at p (64-bit mode). 0 if truncated. */
static size_t modrm_length(const uint8_t *p, size_t avail)
{
    if (avail < 1)
        return 0;
    uint8_t mod = p[0] >> 6, rm = p[0] & 7;
    size_t n = 1;
    if (mod == 3)
        return n;
    if (rm == 4) {
        if (avail < 2)
            return 0;
        if (mod == 0 && (p[1] & 7) == 5)
            n += 4;                       /* SIB with no base: disp32 */
        n++;
    } else if (mod == 0 && rm == 5) {
        n += 4;                           /* RIP-relative */
    }
    if (mod == 1)
        n += 1;
    else if (mod == 2)
        n += 4;
    return n <= avail ? n : 0;
}

static int64_t read_rel(const uint8_t *p, size_t bytes)
{
    if (bytes == 1)
        return (int8_t)p[0];
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

int x86_decode(const uint8_t *p, size_t avail, struct x86_insn *out)
{
    size_t i = 0;
    bool opsize16 = false, rex_w = false;
    memset(out, 0, sizeof *out);
    while (i < avail && i < 14 && is_legacy_prefix(p[i]))
        opsize16 |= p[i++] == 0x66;
    if (i < avail && (p[i] & 0xF0) == 0x40)
        rex_w = (p[i++] & 8) != 0;
    if (i >= avail)
        return -1;
    uint8_t op = p[i++];
    enum imm imm = I0;
    bool modrm;
    size_t rel = 0;                       /* bytes of a relative branch displacement */
    if (op == 0x0F) {
        if (i >= avail)
            return -1;
        uint8_t op2 = p[i++];
        if (op2 == 0x38 || op2 == 0x3A) {
            if (i >= avail)
                return -1;
            i++;
            modrm = true;
            imm = op2 == 0x3A ? I8 : I0;
        } else if (op2 >= 0x80 && op2 <= 0x8F) {
            modrm = false;
            rel = 4;
            out->flow = X86_FLOW_JCC;
        } else if (op2 == 0x0F || op2 == 0x04 || op2 == 0x0A || op2 == 0x0C ||
                   op2 == 0x24 || op2 == 0x25 || op2 == 0x26 || op2 == 0x27 ||
                   op2 == 0x36 || op2 == 0x39 || (op2 >= 0x3B && op2 <= 0x3F) ||
                   op2 == 0x7A || op2 == 0x7B || op2 == 0xFF) {
            return -1;                    /* 3DNow!, invalid or reserved */
        } else {
            modrm = !map2_no_modrm(op2);
            imm = map2_imm8(op2) ? I8 : I0;
            if (op2 == 0x0B)
                out->flow = X86_FLOW_OTHER;   /* ud2 */
        }
    } else {
        if (map1_modrm[op] == 'X')
            return -1;
        modrm = map1_modrm[op] == 'M';
        uint8_t reg = (modrm && i < avail) ? (p[i] >> 3) & 7 : 0;
        imm = map1_imm(op, reg);
        if (imm == IBAD)
            return -1;
        if ((op >= 0x70 && op <= 0x7F) || (op >= 0xE0 && op <= 0xE3)) {
            rel = 1;
            out->flow = X86_FLOW_JCC;
        } else if (op == 0xEB || op == 0xE9) {
            rel = op == 0xEB ? 1 : 4;
            out->flow = X86_FLOW_JMP;
        } else if (op == 0xE8) {
            rel = 4;
            out->flow = X86_FLOW_CALL;
        } else if (op == 0xC2 || op == 0xC3 || op == 0xCC || op == 0xF4 ||
                   (op == 0xFF && (reg == 2 || reg == 3 || reg == 4 || reg == 5))) {
            out->flow = X86_FLOW_OTHER;
        }
    }
    if (modrm) {
        size_t m = modrm_length(p + i, avail - i);
        if (m == 0)
            return -1;
        i += m;
    }
    size_t imm_bytes = 0;
    switch (imm) {
    case I0: break;
    case I8: imm_bytes = 1; break;
    case I16: imm_bytes = 2; break;
    case IZ: imm_bytes = opsize16 && !rex_w ? 2 : 4; break;
    case IV: imm_bytes = rex_w ? 8 : opsize16 ? 2 : 4; break;
    case I16_8: imm_bytes = 3; break;
    case IBAD: return -1;
    }
    if (rel) {
        if (i + rel > avail)
            return -1;
        out->displacement = read_rel(p + i, rel);
        i += rel;
    }
    i += imm_bytes;
    if (i > avail || i > 15)
        return -1;
    out->length = i;
    return 0;
}
