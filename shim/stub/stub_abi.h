/* stub_abi: the contract between the injector (inject/hijack.c, C) and the stub (stub.S,
 * asm); the globals below are defined in stub_abi.c.
 *
 * THESE OFFSETS MUST NOT CHANGE without changing stub.S: the asm uses the numeric macros
 * below, the C side the struct, and the _Static_asserts tie the two together.
 *
 * Hand-off: the injector fills the calling thread's `stub_handoff` just before it
 * overwrites the return address of caml_call_gc; the stub copies every field into its own
 * frame as its first action. Nothing can run on that thread in between (no allocation, no
 * OCaml code, no GC), so one record per thread suffices and no pointer into a fiber stack
 * survives past the copy (fiber stacks move when they grow).
 *
 * Stub frame (offsets from %rsp while the yield closure runs; STUB_FRAME_SIZE bytes, the
 * last word of which is where a return address into the interrupted function would be):
 *   GC_SLOTS   13 words  GC-visible copies of the live value registers, Val_unit elsewhere
 *   RAW_SLOTS  13 words  raw copies of all 13 allocatable integer registers (never scanned)
 *   XMM_SLOTS  16 words  xmm0-15 (low 64 bits: OCaml keeps scalar doubles there)
 *   SAVED_*     4 words  hand-off fields the stub needs after the yield
 *   TRAP        2 words  an OCaml trap frame (previous exn_handler, handler address)
 *   pad         1 word
 *   SHADOW      1 word   the shadow return address describing the interrupted frame
 */
#ifndef OCPREEMPT_STUB_ABI_H
#define OCPREEMPT_STUB_ABI_H

#define STUB_GC_SLOTS        0
#define STUB_RAW_SLOTS       104
#define STUB_XMM_SLOTS       208
#define STUB_SAVED_ORIG      336
#define STUB_SAVED_MASK      344
#define STUB_SAVED_BYTES     352
#define STUB_SAVED_KIND      360
#define STUB_TRAP            368
#define STUB_SHADOW_SLOT     392
#define STUB_FRAME_SIZE      400

#define HANDOFF_ORIG_RETADDR 0
#define HANDOFF_SHADOW       8
#define HANDOFF_LIVE_MASK    16
#define HANDOFF_ALLOC_BYTES  24
#define HANDOFF_CLOSURE      32
#define HANDOFF_KIND         40
#define HANDOFF_UNHANDLED    48
#define HANDOFF_ENTRY_TSC    56

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct stub_handoff {
    uintptr_t orig_retaddr;   /* where the interrupted code resumes */
    uintptr_t shadow_retaddr; /* unique per site; its descriptor describes the frame */
    uint64_t live_mask;       /* bit i: gc_regs register i holds a live value */
    uint64_t alloc_bytes;     /* allocation to give back now and redo on resume; 0 = poll */
    uintptr_t closure;        /* the yield closure (a static, never-moving block) */
    uint64_t kind;            /* enum safepoint_kind, for the stub's own bookkeeping */
    uint64_t unhandled_fiber; /* written by the stub: 1 + id of the fiber whose yield was
                                 unhandled (ids, unlike stacks, are never reused) */
    uint64_t entry_tsc;       /* written by the stub: TSC at its entry (latency stats) */
    uint64_t request_tsc;     /* C only: TSC of the request this injection served */
    int domain;               /* C only: domain id, for folding the latency */
};

_Static_assert(offsetof(struct stub_handoff, orig_retaddr) == HANDOFF_ORIG_RETADDR, "abi");
_Static_assert(offsetof(struct stub_handoff, shadow_retaddr) == HANDOFF_SHADOW, "abi");
_Static_assert(offsetof(struct stub_handoff, live_mask) == HANDOFF_LIVE_MASK, "abi");
_Static_assert(offsetof(struct stub_handoff, alloc_bytes) == HANDOFF_ALLOC_BYTES, "abi");
_Static_assert(offsetof(struct stub_handoff, closure) == HANDOFF_CLOSURE, "abi");
_Static_assert(offsetof(struct stub_handoff, kind) == HANDOFF_KIND, "abi");
_Static_assert(offsetof(struct stub_handoff, unhandled_fiber) == HANDOFF_UNHANDLED, "abi");
_Static_assert(offsetof(struct stub_handoff, entry_tsc) == HANDOFF_ENTRY_TSC, "abi");
_Static_assert(STUB_RAW_SLOTS == STUB_GC_SLOTS + 13 * 8, "abi");
_Static_assert(STUB_XMM_SLOTS == STUB_RAW_SLOTS + 13 * 8, "abi");
_Static_assert(STUB_SAVED_ORIG == STUB_XMM_SLOTS + 16 * 8, "abi");
_Static_assert(STUB_SHADOW_SLOT == STUB_FRAME_SIZE - 8, "abi");
_Static_assert(STUB_FRAME_SIZE % 16 == 0, "abi: keep the OCaml stack 16-byte aligned");

/* Defined in stub.S. */
extern char ocpreempt_stub_entry[];      /* where the hijacked return lands */
extern char ocpreempt_stub_yield_ret[];  /* return address of the stub's call to yield */

/* Read by stub.S (hidden globals in stub_abi.c, set once before the first hijack). */
extern uint64_t stub_exn_handler_offset;      /* offsetof(caml_domain_state, exn_handler) */
extern uint64_t stub_current_stack_offset;    /* offsetof(caml_domain_state, current_stack) */
extern uint64_t stub_stack_id_offset;         /* offsetof(struct stack_info, id) */
extern uintptr_t stub_caml_call_gc;           /* run-time address of caml_call_gc */
extern const uintptr_t *stub_unhandled_exn;   /* caml_named_value("Effect.Unhandled") */
extern __thread struct stub_handoff stub_handoff;
#endif

#endif
