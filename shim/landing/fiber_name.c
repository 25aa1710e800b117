/* fiber_name: see fiber_name.h. Frame arithmetic as in fiber_starter.c. */
#define _GNU_SOURCE
#include "fiber_name.h"

#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "code_owner.h"
#include "fiber_starter.h"
#include "fiber_walk.h"
#include "runtime.h"
#include "site_table.h"

/* The candidates seen so far, base-most last. */
struct pick {
    uintptr_t own;         /* the program's own code */
    uintptr_t other;       /* a scheduler's (denied) code */
};

static void consider(struct pick *p, uintptr_t pc)
{
    uint64_t link_pc = pc - ocaml_rt.bias;
    enum code_owner owner = code_owner_of(link_pc);
    if (owner == OWNER_TRANSPARENT || code_owner_in_effect_library(link_pc))
        return;
    if (owner == OWNER_DENIED)
        p->other = pc;
    else
        p->own = pc;
}

/* Walks the frames laid out in [sp, high) (a live stack or a copy: only return addresses
 * are read from it), down to the base. A C-to-OCaml callback's boundary (a return-to-C
 * frame short of the base) is crossed the way the runtime's own walk crosses it
 * (caml_next_frame_descriptor: the trap frame, gc_regs and DWARF link, Stack_header_size,
 * then the caller's return address), and what was picked above it is forgotten: those
 * frames are the callback's, not the fiber's (adversary F7: a fiber spending its time in
 * a callback was named after the callback's function). false if a frame has no
 * descriptor before the base. */
static bool walk_frames(const char *sp, const char *high, struct pick *p)
{
    for (;;) {
        uintptr_t pc;
        uint16_t frame_data;
        if (!fiber_frame_at(sp, high, &pc, &frame_data))
            return false;
        if (frame_data == FRAME_RETURN_TO_C_MARK) {
            sp += sizeof pc + STACK_HEADER_SIZE;
            if (sp >= high)
                return true;                               /* the base */
            *p = (struct pick){ 0, 0 };                    /* a callback's */
            continue;
        }
        consider(p, pc);
        sp += frame_data & FRAME_SIZE_MASK;
    }
}

/* The entry of the function holding pc. */
static uintptr_t function_entry(uintptr_t pc)
{
    uintptr_t offset = 0;
    site_table_function_name(pc, &offset);
    return offset <= pc - ocaml_rt.bias ? pc - offset : pc;
}

static uintptr_t chosen(const struct pick *p)
{
    uintptr_t pc = p->own ? p->own : p->other;
    return pc ? function_entry(pc) : 0;
}

uintptr_t fiber_name_running(uintptr_t stack)
{
    struct pick p = { 0, 0 };
    walk_frames((const char *)STACK_FIELD(stack, sp), (const char *)STACK_FIELD(stack, handler),
                &p);
    if (p.own || p.other)
        return chosen(&p);
    uintptr_t starter = fiber_starter(stack);
    return starter ? function_entry(starter) : 0;
}

/* Copies [from, from + len) of this process into to; false if any of it is not mapped. */
static bool copy_own_memory(void *to, uintptr_t from, size_t len)
{
    struct iovec local = { to, len }, remote = { (void *)from, len };
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len;
}

uintptr_t fiber_name_suspended(uintptr_t stack, uint64_t id, unsigned char *buf, size_t len)
{
    size_t header = ocaml_rt.layout.stack_info.size;
    if (!buf || len < header || !copy_own_memory(buf, stack, header))
        return 0;
    uintptr_t sp = STACK_FIELD(buf, sp), high = STACK_FIELD(buf, handler);
    if ((uint64_t)STACK_FIELD(buf, id) != id || sp <= stack || high <= sp || high - sp > len)
        return 0;
    if (!copy_own_memory(buf, sp, high - sp))
        return 0;
    struct pick p = { 0, 0 };
    walk_frames((const char *)buf, (const char *)buf + (high - sp), &p);
    return chosen(&p);
}
