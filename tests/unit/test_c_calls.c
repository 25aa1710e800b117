/* Unit tests of analysis/code/c_calls.c on hand-written x86-64 byte sequences: the code
 * before an external call's return address, as ocamlopt 5.x emits it (emit.mlp, Iextcall),
 * and caml_c_call's own body. Addresses are chosen so that a rel32 or disp32 computed from
 * the wrong base (the instruction's start instead of its end) would miss.
 */
#include <stdint.h>
#include <string.h>

#include "c_calls.h"
#include "check.h"

#define RETADDR 0x41d9dull
#define CAML_C_CALL 0x96000ull
#define C_STACK_OFFSET 64

static void put32(uint8_t *p, int64_t v)
{
    int32_t w = (int32_t)v;
    memcpy(p, &w, 4);
}

/* 12 bytes ending at RETADDR: `48 <op> 05 disp32` (rax <- [rip+disp] or its address) then
 * `e8 rel32` to `callee`; the load's rip-relative target is `target`. */
static void external_call(uint8_t code[12], uint8_t op, uint64_t target, uint64_t callee)
{
    code[0] = 0x48;
    code[1] = op;
    code[2] = 0x05;
    put32(code + 3, (int64_t)(target - (RETADDR - 5)));
    code[7] = 0xe8;
    put32(code + 8, (int64_t)(callee - RETADDR));
}

static void test_external(int argc, char **argv)
{
    (void)argc, (void)argv;
    uint8_t code[12];
    const uint64_t entries[] = { CAML_C_CALL };
    struct c_call_target t;
    external_call(code, 0x8d, 0x52340, CAML_C_CALL);                  /* lea: the function */
    CHECK(c_call_decode_external(code + 12, 12, RETADDR, entries, 1, &t));
    CHECK_EQ(t.kind, C_TARGET_DIRECT);
    CHECK_EQ(t.address, 0x52340);
    external_call(code, 0x8b, 0x60ff8, CAML_C_CALL);                  /* mov: its GOT slot */
    CHECK(c_call_decode_external(code + 12, 12, RETADDR, entries, 1, &t));
    CHECK_EQ(t.kind, C_TARGET_GOT_SLOT);
    CHECK_EQ(t.address, 0x60ff8);
    external_call(code, 0x8d, 0x52340, CAML_C_CALL + 5);              /* another callee */
    CHECK(!c_call_decode_external(code + 12, 12, RETADDR, entries, 1, &t));
    external_call(code, 0x89, 0x52340, CAML_C_CALL);                  /* mov [rip], rax */
    CHECK(!c_call_decode_external(code + 12, 12, RETADDR, entries, 1, &t));
    external_call(code, 0x8d, 0x52340, CAML_C_CALL);
    CHECK(!c_call_decode_external(code + 12, 11, RETADDR, entries, 1, &t));   /* too short */
    const uint64_t none[] = { 0 };                                     /* absent entry */
    external_call(code, 0x8d, 0x52340, 0);
    CHECK(!c_call_decode_external(code + 12, 12, RETADDR, none, 1, &t));
}

static void test_noalloc(int argc, char **argv)
{
    (void)argc, (void)argv;
    /* mov rsp, [r14 + 64]; call f */
    uint8_t code[9] = { 0x49, 0x8b, 0x66, C_STACK_OFFSET, 0xe8 };
    put32(code + 5, (int64_t)(0x52000 - RETADDR));
    struct c_call_target t;
    CHECK(c_call_decode_noalloc(code + 9, 9, RETADDR, C_STACK_OFFSET, &t));
    CHECK_EQ(t.kind, C_TARGET_DIRECT);
    CHECK_EQ(t.address, 0x52000);
    CHECK(!c_call_decode_noalloc(code + 9, 9, RETADDR, C_STACK_OFFSET + 8, &t));  /* other field */
    code[2] = 0x67;                                                    /* mov rsp, [r15 + 64] */
    CHECK(!c_call_decode_noalloc(code + 9, 9, RETADDR, C_STACK_OFFSET, &t));
    /* a disp32 offset (>= 128) */
    uint8_t wide[12] = { 0x49, 0x8b, 0xa6 };
    put32(wide + 3, 0x100);
    wide[7] = 0xe8;
    put32(wide + 8, (int64_t)(0x52000 - RETADDR));
    CHECK(c_call_decode_noalloc(wide + 12, 12, RETADDR, 0x100, &t));
    CHECK_EQ(t.address, 0x52000);
    /* an ordinary OCaml call (no stack switch before it) is not a noalloc call */
    uint8_t plain[9] = { 0x48, 0x89, 0xc3, 0x90, 0xe8 };
    put32(plain + 5, (int64_t)(0x52000 - RETADDR));
    CHECK(!c_call_decode_noalloc(plain + 9, 9, RETADDR, C_STACK_OFFSET, &t));
}

static void test_entry_return(int argc, char **argv)
{
    (void)argc, (void)argv;
    /* caml_c_call, 5.3: SWITCH_OCAML_TO_C (five movs), mov r15 -> young_ptr, call *%rax */
    static const uint8_t body[] = {
        0x4d, 0x8b, 0x56, 0x28,             /* mov r10, [r14+0x28] */
        0x49, 0x89, 0x22,                   /* mov [r10], rsp */
        0x4d, 0x8b, 0x5e, 0x40,             /* mov r11, [r14+0x40] */
        0x49, 0x89, 0x63, 0x08,             /* mov [r11+8], rsp */
        0x4d, 0x89, 0x13,                   /* mov [r11], r10 */
        0x4c, 0x89, 0xdc,                   /* mov rsp, r11 */
        0x4d, 0x89, 0x7e, 0x08,             /* mov [r14+8], r15 */
        0xff, 0xd0,                         /* call *%rax */
        0x4d, 0x8b, 0x7e, 0x08,             /* mov r15, [r14+8] */
        0xc3,
    };
    uint64_t ret = 0;
    CHECK_EQ(c_call_entry_return(body, sizeof body, CAML_C_CALL, &ret), 0);
    CHECK_EQ(ret, CAML_C_CALL + 27);
    /* a function that returns before any call *%rax */
    static const uint8_t early[] = { 0x4d, 0x8b, 0x56, 0x28, 0xc3, 0xff, 0xd0 };
    CHECK_EQ(c_call_entry_return(early, sizeof early, CAML_C_CALL, &ret), -1);
    CHECK_EQ(c_call_entry_return(body, 20, CAML_C_CALL, &ret), -1);     /* cut short */
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"external", test_external},
        {"noalloc", test_noalloc},
        {"entry_return", test_entry_return},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
