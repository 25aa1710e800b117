/* Unit tests of site_shape_classify on hand-written x86-64 byte sequences.
 *
 * Each sequence is the 5 bytes before a return address and the 2 after, as the census and
 * the shim pass them; targets are chosen so a rel32 computed from the wrong base (the call
 * start instead of the return address) would miss.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "site_shape.h"

static const struct site_targets targets = {
    .call_gc = 0x96000, .alloc1 = 0x96100, .alloc2 = 0x96110, .alloc3 = 0x96120,
    .allocN = 0x96130};

/* e8 rel32 at retaddr-5 calling `target`, followed by the two given bytes. */
static void call_then(uint8_t code[7], uint64_t retaddr, uint64_t target, uint8_t b0, uint8_t b1)
{
    int32_t rel = (int32_t)(target - retaddr);
    code[0] = 0xe8;
    memcpy(code + 1, &rel, 4);
    code[5] = b0;
    code[6] = b1;
}

static void test_call_gc_then_jmp(int argc, char **argv)
{
    uint8_t code[7];
    call_then(code, 0x41d9d, targets.call_gc, 0xeb, 0xc6);        /* jmp rel8 */
    CHECK_EQ(site_shape_classify(code, 0x41d9d, &targets), SHAPE_CALL_GC_THEN_JMP);
    call_then(code, 0x41d9d, targets.call_gc, 0xe9, 0x10);        /* jmp rel32 */
    CHECK_EQ(site_shape_classify(code, 0x41d9d, &targets), SHAPE_CALL_GC_THEN_JMP);
    CHECK_STR(site_shape_name(SHAPE_CALL_GC_THEN_JMP), "call-gc-then-jmp");
    /* a call to caml_call_gc not followed by a jmp (fall-through) is not the shape */
    call_then(code, 0x41d9d, targets.call_gc, 0x48, 0x8d);
    CHECK_EQ(site_shape_classify(code, 0x41d9d, &targets), SHAPE_UNRECOGNISED);
    /* a backwards call (negative rel32) resolves too */
    call_then(code, 0x99000, targets.call_gc, 0xeb, 0x00);
    CHECK_EQ(site_shape_classify(code, 0x99000, &targets), SHAPE_CALL_GC_THEN_JMP);
}

static void test_call_allocN(int argc, char **argv)
{
    uint8_t code[7];
    const uint64_t allocs[] = {targets.alloc1, targets.alloc2, targets.alloc3, targets.allocN};
    for (size_t i = 0; i < 4; i++) {
        call_then(code, 0x41dbb, allocs[i], 0x49, 0x8d);          /* lea 8(%r15),... */
        CHECK_EQ(site_shape_classify(code, 0x41dbb, &targets), SHAPE_CALL_ALLOCN);
    }
}

static void test_unrecognised(int argc, char **argv)
{
    uint8_t code[7];
    call_then(code, 0x41000, 0x70560, 0xeb, 0x00);                /* some other function */
    CHECK_EQ(site_shape_classify(code, 0x41000, &targets), SHAPE_UNRECOGNISED);
    call_then(code, 0x41000, targets.call_gc + 5, 0xeb, 0x00);    /* rel32 from call start */
    CHECK_EQ(site_shape_classify(code, 0x41000, &targets), SHAPE_UNRECOGNISED);
    const uint8_t indirect[7] = {0x90, 0x90, 0x41, 0xff, 0xd3, 0xeb, 0x00};  /* call *%r11 */
    CHECK_EQ(site_shape_classify(indirect, 0x41000, &targets), SHAPE_UNRECOGNISED);
    /* absent targets (0) never match, even for a call to address 0 */
    struct site_targets none = {0};
    call_then(code, 0x41000, 0, 0xeb, 0x00);
    CHECK_EQ(site_shape_classify(code, 0x41000, &none), SHAPE_UNRECOGNISED);
    CHECK_STR(site_shape_name(SHAPE_UNRECOGNISED), "unrecognised");
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"call_gc_then_jmp", test_call_gc_then_jmp},
        {"call_allocN", test_call_allocN},
        {"unrecognised", test_unrecognised},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
