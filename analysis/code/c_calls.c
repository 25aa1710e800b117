/* c_calls: see c_calls.h. The encodings, all with a 32-bit displacement:
 *   e8 rel32                 call rel32                (5 bytes)
 *   48 8d 05 disp32          lea rax, [rip+disp32]     (7 bytes)
 *   48 8b 05 disp32          mov rax, [rip+disp32]     (7 bytes)
 *   49 8b 66 d8              mov rsp, [r14+d8]         (4 bytes; c_stack < 128)
 *   49 8b a6 d32             mov rsp, [r14+d32]        (7 bytes)
 *   ff d0                    call rax                  (2 bytes)
 */
#include "c_calls.h"

#include <string.h>

#include "x86_length.h"

static int32_t rel32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The target of the `call rel32` that ends at retaddr, or false. */
static bool call_rel32_before(const uint8_t *end, size_t before, uint64_t retaddr,
                              uint64_t *target)
{
    if (before < 5 || end[-5] != 0xE8)
        return false;
    *target = retaddr + (uint64_t)(int64_t)rel32(end - 4);
    return true;
}

bool c_call_decode_external(const uint8_t *end, size_t before, uint64_t retaddr,
                            const uint64_t *entries, size_t n, struct c_call_target *out)
{
    uint64_t callee;
    if (before < 12 || !call_rel32_before(end, before, retaddr, &callee))
        return false;
    bool to_entry = false;
    for (size_t i = 0; i < n; i++)
        to_entry |= entries[i] != 0 && callee == entries[i];
    const uint8_t *load = end - 12;
    if (!to_entry || load[0] != 0x48 || load[2] != 0x05)
        return false;
    uint64_t rip = retaddr - 5;                     /* the end of the load */
    uint64_t address = rip + (uint64_t)(int64_t)rel32(load + 3);
    if (load[1] == 0x8D)
        *out = (struct c_call_target){ C_TARGET_DIRECT, address };
    else if (load[1] == 0x8B)
        *out = (struct c_call_target){ C_TARGET_GOT_SLOT, address };
    else
        return false;
    return true;
}

bool c_call_decode_noalloc(const uint8_t *end, size_t before, uint64_t retaddr,
                           size_t c_stack_offset, struct c_call_target *out)
{
    uint64_t callee;
    if (!call_rel32_before(end, before, retaddr, &callee))
        return false;
    bool short_form = c_stack_offset < 128;
    size_t load_len = short_form ? 4 : 7;
    if (before < 5 + load_len)
        return false;
    const uint8_t *load = end - 5 - load_len;
    if (load[0] != 0x49 || load[1] != 0x8B || load[2] != (short_form ? 0x66 : 0xA6))
        return false;
    int64_t disp = short_form ? (int8_t)load[3] : rel32(load + 3);
    if (disp != (int64_t)c_stack_offset)
        return false;
    *out = (struct c_call_target){ C_TARGET_DIRECT, callee };
    return true;
}

int c_call_entry_return(const uint8_t *code, size_t avail, uint64_t entry, uint64_t *ret)
{
    size_t at = 0;
    while (at + 2 <= avail) {
        if (code[at] == 0xFF && code[at + 1] == 0xD0) {
            *ret = entry + at + 2;
            return 0;
        }
        struct x86_insn insn;
        /* a linear sweep: straight-line code, but a loop before the call is allowed */
        if (x86_decode(code + at, avail - at, &insn) != 0 || insn.flow == X86_FLOW_OTHER)
            return -1;          /* unknown, or the function returns before the call */
        at += insn.length;
    }
    return -1;
}
