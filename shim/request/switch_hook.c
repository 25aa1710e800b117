/* switch_hook: see switch_hook.h.
 *
 * Invariants:
 *  - nothing is written to the executable's code unless every routine matched its known
 *    prologue and every trampoline was built: both are patched, or neither is
 *    (code_patch.c undoes a half-done write; should the undo fail too, which it reports,
 *    the counts stay conservative: extra counts only ever make a run look shorter);
 *  - the runtime's code never loses execute permission, whatever mprotect or
 *    /proc/self/mem refuses (code_patch.h): a refusal leaves the hook off, never the
 *    program broken;
 *  - a moved instruction sequence is copied byte for byte: it is position-independent
 *    (checked by the exact match) and no jump targets its inside (amd64.S's labels lie
 *    after it);
 *  - the trampolines live in one page within +-2 GiB of the routines (rel32 jumps), mapped
 *    read+write without execute, written, then read+execute (refused: unmapped, nothing
 *    patched); once the routines may jump to them they are never unmapped.
 */
#define _GNU_SOURCE
#include "switch_hook.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "code_patch.h"
#include "fiber_log.h"
#include "runtime.h"
#include "thread_registry.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define TRAMPOLINE_SLOT 160
#define JMP_REL32_LEN 5

_Static_assert(SWITCH_PROLOGUE_MAX <= CODE_EDIT_MAX, "a moved prologue fits one code edit");

/* A routine the shim patches. Its exact start (which bytes are moved into the trampoline)
 * comes from the release's profile (analysis/runtime/runtime_profile.c: prologues, in this order).
 * `target` computes the fiber being switched to into %rdx from the entry registers;
 * `always` counts every entry, otherwise only an entry whose target is not the fiber the
 * thread last switched to. */
struct routine {
    const char *name;
    unsigned char target[8];
    size_t target_len;
    bool always;
};

static const struct routine routines[SWITCH_ROUTINE_COUNT] = {
    /* %rax: the continuation's fiber (the performer), tagged as Val_ptr. */
    { "caml_resume", { 0x48, 0x8d, 0x50, 0xff }, 4, false },                /* lea -1(%rax),%rdx */
    /* %rax: the new fiber, tagged. */
    { "caml_runstack", { 0x48, 0x89, 0xc2, 0x48, 0x83, 0xe2, 0xfe }, 7, true },  /* mov %rax,%rdx; and $-2 */
};
#define ROUTINE_COUNT (sizeof routines / sizeof routines[0])

static bool active;

/* The profile's expected start of routines[i] (NULL: the profile has none). */
static const struct switch_prologue *prologue_of(size_t i)
{
    const struct switch_prologue *p = ocaml_rt.profile.profile->prologues;
    return p != NULL && strcmp(p[i].routine, routines[i].name) == 0 ? &p[i] : NULL;
}

bool switch_hook_active(void) { return active; }

/* ---- locating and checking the routines --------------------------------------------- */

/* Each routine must start as its profile says before anything is patched. */
static int check_prologues(const uintptr_t addr[ROUTINE_COUNT], char *why, size_t why_len)
{
    for (size_t i = 0; i < ROUTINE_COUNT; i++) {
        const struct switch_prologue *pro = prologue_of(i);
        const unsigned char *code = (const unsigned char *)addr[i];
        for (size_t k = 0; k < pro->len; k++) {
            if (pro->mask[k] && code[k] != pro->code[k]) {
                snprintf(why, why_len, "%s does not start as in OCaml %s's amd64.S "
                         "(byte %zu is 0x%02x)", routines[i].name,
                         ocaml_rt.profile.profile->series, k, code[k]);
                return -1;
            }
        }
    }
    return 0;
}

static int have_prologues(char *why, size_t why_len)
{
    for (size_t i = 0; i < ROUTINE_COUNT; i++)
        if (prologue_of(i) == NULL) {
            snprintf(why, why_len, "the OCaml %s profile knows no start of %s",
                     ocaml_rt.profile.profile->series, routines[i].name);
            return -1;
        }
    return 0;
}

static int locate(const struct elf_image *img, uintptr_t addr[ROUTINE_COUNT], char *why,
                  size_t why_len)
{
    if (have_prologues(why, why_len) != 0)
        return -1;
    for (size_t i = 0; i < ROUTINE_COUNT; i++) {
        struct elf_symbol sym;
        if (elf_image_symbol(img, routines[i].name, &sym) != 0 ||
            sym.size < prologue_of(i)->len) {
            snprintf(why, why_len, "runtime routine %s not found", routines[i].name);
            return -1;
        }
        addr[i] = ocaml_rt.bias + sym.value;
    }
    return 0;
}

/* ---- the trampoline page ------------------------------------------------------------- */

static bool within_rel32(uintptr_t from, uintptr_t to)
{
    int64_t d = (int64_t)(to - from);
    return d > INT32_MIN / 2 && d < INT32_MAX / 2;
}

/* One page within rel32 reach of [lo, hi], or NULL. Tries fixed addresses 1 MiB apart,
 * below the code first (above it lies the heap), without replacing any mapping. */
static unsigned char *map_near(uintptr_t lo, uintptr_t hi, size_t page)
{
    for (uintptr_t step = 1; step <= 1024; step++) {
        uintptr_t candidates[2] = { (lo & ~(page - 1)) - step * (1u << 20),
                                    ((hi + page) & ~(page - 1)) + step * (1u << 20) };
        for (int c = 0; c < 2; c++) {
            uintptr_t want = candidates[c];
            if (!within_rel32(want, lo) || !within_rel32(want + page, hi))
                continue;
            void *p = mmap((void *)want, page, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (p == MAP_FAILED)
                continue;
            if ((uintptr_t)p == want)
                return p;
            munmap(p, page);       /* a kernel that took the address as a mere hint */
        }
    }
    return NULL;
}

struct emitter {
    unsigned char *at;
};

static void emit(struct emitter *e, const void *bytes, size_t n)
{
    memcpy(e->at, bytes, n);
    e->at += n;
}

static void emit32(struct emitter *e, int32_t v) { emit(e, &v, 4); }

static void emit_jmp(struct emitter *e, uintptr_t target)
{
    unsigned char op = 0xe9;
    emit(e, &op, 1);
    emit32(e, (int32_t)(int64_t)(target - ((uintptr_t)e->at + 4)));
}

static void emit_field(struct emitter *e, const unsigned char op[3], size_t offset)
{
    emit(e, op, 3);
    emit32(e, (int32_t)offset);
}

/* The switch's entry in the thread's fiber log (see emit_trampoline): %rcx the record,
 * %rdx the stack switched to; leaves %rsi at the entry, clobbers %rax. */
static void emit_log_entry(struct emitter *e)
{
    static const unsigned char load_log[] = { 0x48, 0x8b, 0xb1 };    /* mov d32(%rcx),%rsi */
    static const unsigned char load_count[] = { 0x48, 0x8b, 0x81 };  /* mov d32(%rcx),%rax */
    static const unsigned char mask[] = { 0x25 };                    /* and $imm32,%eax */
    static const unsigned char index[] = { 0x48, 0x8d, 0x04, 0x40,   /* lea (%rax,%rax,2),%rax */
                                           0x48, 0x8d, 0x34, 0xc6 }; /* lea (%rsi,%rax,8),%rsi */
    static const unsigned char store_stack[] = { 0x48, 0x89, 0x16 }; /* mov %rdx,(%rsi) */
    static const unsigned char load_id[] = { 0x48, 0x8b, 0x82 };     /* mov d32(%rdx),%rax */
    static const unsigned char store_id[] = { 0x48, 0x89, 0x46,      /* mov %rax,d8(%rsi) */
                                              offsetof(struct fiber_switch, id) };
    _Static_assert(offsetof(struct fiber_log, switches) == 0, "entries at the log's start");
    _Static_assert(offsetof(struct fiber_switch, stack) == 0, "stack first");
    emit_field(e, load_log, offsetof(struct thread_record, fiber_log));
    emit_field(e, load_count, offsetof(struct thread_record, switches));
    emit(e, mask, sizeof mask);
    emit32(e, FIBER_SWITCH_LOG - 1);
    emit(e, index, sizeof index);
    emit(e, store_stack, sizeof store_stack);
    emit_field(e, load_id, ocaml_rt.layout.stack_info.id);
    emit(e, store_id, sizeof store_id);
}

/* The counting prologue, then the moved instructions, then the jump back:
 *     push %rcx; push %rdx; push %rax
 *     mov %fs:tp_off,%rcx          the thread's record
 *     test %rcx,%rcx; je done      none: an unregistered thread
 *     <target into %rdx>
 *     test %rdx,%rdx; je done      a used continuation: caml_resume raises, no switch
 *     cmp %rdx,last_fiber(%rcx); je done     (unless `always`)
 *     mov %rdx,last_fiber(%rcx)
 *     rdtsc; shl $32,%rdx; or %rdx,%rax; mov %rax,switch_tsc(%rcx)
 *     incq switches(%rcx)
 * done:
 * With per-fiber accounting on (fiber_log.h), %rsi is saved too and, before the TSC, the
 * switch is logged at the entry the count indexes (no test: every record has a log then):
 *     mov fiber_log(%rcx),%rsi; mov switches(%rcx),%rax; and $MASK,%eax
 *     lea (%rax,%rax,2),%rax; lea (%rsi,%rax,8),%rsi    the 24-byte entry
 *     mov %rdx,(%rsi); mov id(%rdx),%rax; mov %rax,8(%rsi)   stack, id
 * and after it `mov %rax,16(%rsi)` (the TSC); the count is incremented last, as before.
 *     pop %rax; pop %rdx; pop %rcx
 *     <the routine's first instructions>; jmp routine+len */
static void emit_trampoline(unsigned char *slot, uintptr_t at, const struct routine *r,
                            size_t moved, int32_t tp_off)
{
    static const unsigned char save[] = { 0x51, 0x52, 0x50 };
    static const unsigned char load_self[] = { 0x64, 0x48, 0x8b, 0x0c, 0x25 };
    static const unsigned char test[] = { 0x48, 0x85, 0xc9 };
    static const unsigned char je[] = { 0x74, 0 };
    static const unsigned char cmp_last[] = { 0x48, 0x39, 0x91 };
    static const unsigned char store_last[] = { 0x48, 0x89, 0x91 };
    static const unsigned char tsc[] = { 0x0f, 0x31, 0x48, 0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0 };
    static const unsigned char store_tsc[] = { 0x48, 0x89, 0x81 };
    static const unsigned char inc_count[] = { 0x48, 0xff, 0x81 };
    static const unsigned char restore[] = { 0x58, 0x5a, 0x59 };
    static const unsigned char test_target[] = { 0x48, 0x85, 0xd2 };  /* test %rdx,%rdx */
    unsigned char *to_done[3];
    int jumps = 0;
    static const unsigned char save_rsi[] = { 0x56 }, restore_rsi[] = { 0x5e };
    bool logged = fiber_log_enabled;
    struct emitter e = { slot };
    if (logged)
        emit(&e, save_rsi, sizeof save_rsi);
    emit(&e, save, sizeof save);
    emit(&e, load_self, sizeof load_self);
    emit32(&e, tp_off);
    emit(&e, test, sizeof test);
    emit(&e, je, sizeof je);
    to_done[jumps++] = e.at - 1;
    emit(&e, r->target, r->target_len);
    /* A null target: caml_resume of a continuation already resumed, which raises
       Continuation_already_resumed without switching (programs rely on catching it):
       no switch to count, and no stack whose id the log could read. */
    emit(&e, test_target, sizeof test_target);
    emit(&e, je, sizeof je);
    to_done[jumps++] = e.at - 1;
    if (!r->always) {
        emit_field(&e, cmp_last, offsetof(struct thread_record, last_fiber));
        emit(&e, je, sizeof je);
        to_done[jumps++] = e.at - 1;
    }
    emit_field(&e, store_last, offsetof(struct thread_record, last_fiber));
    if (logged)
        emit_log_entry(&e);
    emit(&e, tsc, sizeof tsc);
    emit_field(&e, store_tsc, offsetof(struct thread_record, switch_tsc));
    if (logged) {
        static const unsigned char store_entry_tsc[] = { 0x48, 0x89, 0x46,
                                                         offsetof(struct fiber_switch, tsc) };
        emit(&e, store_entry_tsc, sizeof store_entry_tsc);
    }
    emit_field(&e, inc_count, offsetof(struct thread_record, switches));
    for (int i = 0; i < jumps; i++)         /* rel8 from the end of each je to here */
        *to_done[i] = (unsigned char)(e.at - (to_done[i] + 1));
    emit(&e, restore, sizeof restore);
    if (logged)
        emit(&e, restore_rsi, sizeof restore_rsi);
    emit(&e, (const void *)at, moved);
    emit_jmp(&e, at + moved);
}

/* ---- patching ------------------------------------------------------------------------ */

/* The jump to the trampoline, then int3 over the rest of the moved instructions (never
 * executed: nothing jumps inside them). */
static void make_entry_edit(struct code_edit *edit, uintptr_t routine, size_t len,
                            uintptr_t trampoline)
{
    edit->at = routine;
    edit->len = len;
    memset(edit->bytes, 0xcc, len);
    edit->bytes[0] = 0xe9;
    int32_t rel = (int32_t)(int64_t)(trampoline - (routine + JMP_REL32_LEN));
    memcpy(edit->bytes + 1, &rel, 4);
}

static uintptr_t located[ROUTINE_COUNT];     /* the routines, for the analysis cache */

static int install_at(const uintptr_t addr[ROUTINE_COUNT], char *why, size_t why_len);

int switch_hook_install(const struct elf_image *img, char *why, size_t why_len)
{
    uintptr_t addr[ROUTINE_COUNT];
    if (locate(img, addr, why, why_len) != 0)
        return -1;
    memcpy(located, addr, sizeof located);
    return install_at(addr, why, why_len);
}

void switch_hook_export(struct cache_builder *b)
{
    uint64_t rel[ROUTINE_COUNT];
    for (size_t i = 0; i < ROUTINE_COUNT; i++)
        rel[i] = located[i] ? located[i] - ocaml_rt.bias : 0;
    cache_builder_add(b, CACHE_TAG_SWITCH_ROUTINES, rel, sizeof rel);
}

int switch_hook_install_cached(const struct cache_view *v, const struct exe_memory *m,
                               char *why, size_t why_len)
{
    size_t n;
    const uint64_t *rel = cache_view_array(v, CACHE_TAG_SWITCH_ROUTINES, sizeof *rel,
                                           ROUTINE_COUNT, &n);
    uintptr_t addr[ROUTINE_COUNT];
    if (!rel || n != ROUTINE_COUNT) {
        snprintf(why, why_len, "no routines in the analysis cache");
        return -1;
    }
    if (have_prologues(why, why_len) != 0)
        return -1;
    for (size_t i = 0; i < ROUTINE_COUNT; i++) {
        if (rel[i] == 0 || !exe_memory_in_code(m, rel[i], prologue_of(i)->len)) {
            snprintf(why, why_len, "cached routine %s outside the code", routines[i].name);
            return -1;
        }
        addr[i] = m->bias + rel[i];
    }
    memcpy(located, addr, sizeof located);
    return install_at(addr, why, why_len);
}

static int install_at(const uintptr_t addr[ROUTINE_COUNT], char *why, size_t why_len)
{
    if (check_prologues(addr, why, why_len) != 0)
        return -1;
    long tp_off = thread_self_tp_offset();
    if (tp_off < INT32_MIN || tp_off > INT32_MAX) {
        snprintf(why, why_len, "the thread record pointer is out of %%fs:disp32 reach");
        return -1;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = addr[0], hi = addr[0];
    for (size_t i = 1; i < ROUTINE_COUNT; i++) {
        lo = addr[i] < lo ? addr[i] : lo;
        hi = addr[i] > hi ? addr[i] : hi;
    }
    unsigned char *tramp = map_near(lo, hi, page);
    if (!tramp) {
        snprintf(why, why_len, "no free page within 2 GiB of the runtime's code");
        return -1;
    }
    for (size_t i = 0; i < ROUTINE_COUNT; i++)
        emit_trampoline(tramp + i * TRAMPOLINE_SLOT, addr[i], &routines[i], prologue_of(i)->len,
                        (int32_t)tp_off);
    if (mprotect(tramp, page, PROT_READ | PROT_EXEC) != 0) {
        snprintf(why, why_len, "cannot make the trampolines executable: %s", strerror(errno));
        munmap(tramp, page);
        return -1;
    }
    struct code_edit edits[ROUTINE_COUNT];
    for (size_t i = 0; i < ROUTINE_COUNT; i++)
        make_entry_edit(&edits[i], addr[i], prologue_of(i)->len,
                        (uintptr_t)(tramp + i * TRAMPOLINE_SLOT));
    enum code_patch_channel channel;
    char patch_why[384];
    if (code_patch_write(edits, ROUTINE_COUNT, &channel, patch_why, sizeof patch_why) != 0) {
        snprintf(why, why_len, "cannot write the runtime's code: %s", patch_why);
        return -1;                        /* the page stays mapped: see the invariants */
    }
    snprintf(why, why_len, "%s", code_patch_channel_name(channel));
    active = true;
    return 0;
}
