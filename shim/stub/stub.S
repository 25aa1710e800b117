/* stub.S: where a hijacked caml_call_gc returns to.
 *
 * Entered by `ret` from caml_call_gc with every register exactly as at the interrupted
 * safe point (%rsp = the interrupted function's frame, %r14 = Caml_state, %r15 = young_ptr
 * with an allocation site's allocation already reserved). It:
 *   1. builds its frame (layout in stub_abi.h) below the interrupted frame, saving all 13
 *      allocatable integer registers raw and, for the live value ones, GC-visibly, and
 *      xmm0-15; copies the thread's hand-off record into the frame;
 *   2. gives an allocation site's reservation back (%r15 += bytes) before anything can
 *      allocate: the redone allocation happens on resume;
 *   3. pushes an OCaml trap frame and calls the yield closure like compiled code does
 *      (%rax = Val_unit, %rbx = closure, call *(%rbx));
 *   4. on return, or on Effect.Unhandled (absorbed), reloads registers (live values from the
 *      GC copy, which the GC may have updated; the rest raw), redoes the allocation and
 *      resumes at the original return address, or re-enters caml_call_gc for it if the
 *      minor heap is full; any other exception is re-raised to the enclosing handler.
 * Only %rsp-relative addressing is used inside the frame: the fiber stack may move while
 * the yield runs (caml_try_realloc_stack), and the runtime rewrites only its own links.
 * Requires offsetof(caml_domain_state, young_limit) == 0 (checked at start-up).
 */
#include "stub_abi.h"

#define GC_REGS(X) X(0, rax) X(1, rbx) X(2, rdi) X(3, rsi) X(4, rdx) X(5, rcx) \
                   X(6, r8) X(7, r9) X(8, r12) X(9, r13) X(10, r10) X(11, r11) X(12, rbp)

#define SAVE_RAW(i, reg)    movq %reg, STUB_RAW_SLOTS + 8 * i(%rsp);
#define LOAD_RAW(i, reg)    movq STUB_RAW_SLOTS + 8 * i(%rsp), %reg;
/* GC copy: the live value, or Val_unit so the GC skips the slot (mask in %rdx). */
#define MAKE_GC_COPY(i, reg)                               \
        movq    $1, STUB_GC_SLOTS + 8 * i(%rsp);           \
        btq     $i, %rdx;                                  \
        jnc     1f;                                        \
        movq    STUB_RAW_SLOTS + 8 * i(%rsp), %rax;        \
        movq    %rax, STUB_GC_SLOTS + 8 * i(%rsp);         \
1:
/* Resume: a live value comes back from the GC copy (it may have moved). */
#define TAKE_GC_COPY(i, reg)                               \
        btq     $i, %rdx;                                  \
        jnc     1f;                                        \
        movq    STUB_GC_SLOTS + 8 * i(%rsp), %rax;         \
        movq    %rax, STUB_RAW_SLOTS + 8 * i(%rsp);        \
1:

#define XMM_REGS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
                    X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define SAVE_XMM(i)  movsd %xmm##i, STUB_XMM_SLOTS + 8 * i(%rsp);
#define LOAD_XMM(i)  movsd STUB_XMM_SLOTS + 8 * i(%rsp), %xmm##i;

        .text
        .globl  ocpreempt_stub_entry
        .hidden ocpreempt_stub_entry
        .type   ocpreempt_stub_entry, @function
        .p2align 4
ocpreempt_stub_entry:
        .cfi_startproc
        /* CFA = the interrupted frame's %rsp; the real return address is in SAVED_ORIG. */
        .cfi_def_cfa rsp, 0
        leaq    -STUB_FRAME_SIZE(%rsp), %rsp
        .cfi_def_cfa_offset STUB_FRAME_SIZE
        GC_REGS(SAVE_RAW)
        XMM_REGS(SAVE_XMM)

        /* Copy the hand-off record into the frame (initial-exec TLS). */
        movq    stub_handoff@GOTTPOFF(%rip), %rcx
        addq    %fs:0, %rcx
        rdtsc                           /* latency stats: request to here */
        shlq    $32, %rdx
        orq     %rdx, %rax
        movq    %rax, HANDOFF_ENTRY_TSC(%rcx)
        movq    HANDOFF_ORIG_RETADDR(%rcx), %rax
        movq    %rax, STUB_SAVED_ORIG(%rsp)
        .cfi_offset rip, STUB_SAVED_ORIG - STUB_FRAME_SIZE
        movq    HANDOFF_SHADOW(%rcx), %rax
        movq    %rax, STUB_SHADOW_SLOT(%rsp)
        movq    HANDOFF_ALLOC_BYTES(%rcx), %rax
        movq    %rax, STUB_SAVED_BYTES(%rsp)
        movq    HANDOFF_KIND(%rcx), %rax
        movq    %rax, STUB_SAVED_KIND(%rsp)
        movq    HANDOFF_CLOSURE(%rcx), %rbx
        movq    HANDOFF_LIVE_MASK(%rcx), %rdx
        movq    %rdx, STUB_SAVED_MASK(%rsp)

        /* Give the reserved allocation back before anything can allocate. */
        addq    STUB_SAVED_BYTES(%rsp), %r15

        GC_REGS(MAKE_GC_COPY)

        /* Trap frame: [TRAP] = previous exn_handler, [TRAP+8] = our handler. */
        movq    stub_exn_handler_offset(%rip), %rcx
        movq    (%r14, %rcx), %rax
        movq    %rax, STUB_TRAP(%rsp)
        leaq    .Lstub_exception(%rip), %rax
        movq    %rax, STUB_TRAP + 8(%rsp)
        leaq    STUB_TRAP(%rsp), %rax
        movq    %rax, (%r14, %rcx)

        movq    $1, %rax                /* Val_unit */
        call    *(%rbx)
        .globl  ocpreempt_stub_yield_ret
        .hidden ocpreempt_stub_yield_ret
ocpreempt_stub_yield_ret:
        /* Pop the trap frame. %r14 may now be another domain's state: the scheduler may
           resume us anywhere; the trap frame itself lives on this (moved?) stack. */
        movq    stub_exn_handler_offset(%rip), %rcx
        movq    STUB_TRAP(%rsp), %rax
        movq    %rax, (%r14, %rcx)

.Lstub_resume:
        movq    STUB_SAVED_MASK(%rsp), %rdx
        GC_REGS(TAKE_GC_COPY)
        /* The shadow slot becomes a real return address again. */
        movq    STUB_SAVED_ORIG(%rsp), %rax
        movq    %rax, STUB_SHADOW_SLOT(%rsp)
        XMM_REGS(LOAD_XMM)
        GC_REGS(LOAD_RAW)
        /* Poll site: just resume. Allocation site: redo the reservation. Flags only from
           here on: every register already holds its resumed value. */
        cmpq    $0, STUB_SAVED_BYTES(%rsp)
        je      .Lstub_return
        subq    STUB_SAVED_BYTES(%rsp), %r15
        cmpq    (%r14), %r15            /* young_limit is at offset 0 */
        jb      .Lstub_call_gc
.Lstub_return:
        leaq    STUB_SHADOW_SLOT(%rsp), %rsp
        .cfi_def_cfa_offset 8
        ret                             /* to the original return address */
        .cfi_def_cfa_offset STUB_FRAME_SIZE
.Lstub_call_gc:
        /* As if the site had called caml_call_gc again: it re-reserves and returns to the
           original return address (which jumps past the allocation check). */
        leaq    STUB_SHADOW_SLOT(%rsp), %rsp
        .cfi_def_cfa_offset 8
        jmp     *stub_caml_call_gc(%rip)
        .cfi_def_cfa_offset STUB_FRAME_SIZE

.Lstub_exception:
        /* Raised to our trap: %rsp = frame + TRAP + 16, exn_handler already restored. */
        leaq    -(STUB_TRAP + 16)(%rsp), %rsp
        /* Effect.Unhandled(_): a block of tag 0 whose field 0 is the registered constructor. */
        testb   $1, %al
        jnz     .Lstub_reraise
        cmpb    $0, -8(%rax)
        jne     .Lstub_reraise
        movq    stub_unhandled_exn(%rip), %rcx
        testq   %rcx, %rcx
        jz      .Lstub_reraise
        movq    (%rcx), %rcx
        cmpq    %rcx, (%rax)
        jne     .Lstub_reraise
        /* Absorb: tell the injector to leave this fiber alone, then resume. */
        movq    stub_handoff@GOTTPOFF(%rip), %rcx
        addq    %fs:0, %rcx
        movq    stub_current_stack_offset(%rip), %rax
        movq    (%r14, %rax), %rax              /* this fiber's stack_info */
        movq    stub_stack_id_offset(%rip), %rdx
        movq    (%rax, %rdx), %rax              /* its id */
        incq    %rax
        movq    %rax, HANDOFF_UNHANDLED(%rcx)
        jmp     .Lstub_resume
.Lstub_reraise:
        /* Unwind to the enclosing handler, as a raise at the safe point would. */
        movq    stub_exn_handler_offset(%rip), %rcx
        movq    (%r14, %rcx), %rsp
        popq    (%r14, %rcx)
        popq    %r11
        jmp     *%r11
        .cfi_endproc
        .size   ocpreempt_stub_entry, . - ocpreempt_stub_entry

        .section .note.GNU-stack, "", @progbits
