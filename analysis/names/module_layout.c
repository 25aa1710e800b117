/* module_layout: a unit's module block read from its initializer (see module_layout.h).
 *
 * The decoder is a pattern reader, not a disassembler: it walks caml<Unit>.entry byte by
 * byte and recognises only the few x86-64 instruction forms the OCaml 5.3 emitter uses to
 * fill the module block (REX.W lea/mov/movq $imm/add, call rel32). It tracks what a
 * register holds (the block's address plus an offset, a static symbol, a place in a fresh
 * allocation, a copy of a module field, a word loaded from static data) and what the
 * words of fresh allocations hold (a module field's copy, a block header), and forgets
 * registers at every call except the callee-saved ones across caml_initialize (a C
 * function: `include Other` keeps Other's block in %r12 across its stores). A submodule
 * block may be built from another fresh block (a signature constraint copies the
 * structure's block into a coerced one: Picos.Fiber). A copy is only believed when the
 * store immediately follows the load, and a block only with its header, so stale register
 * state or a misread byte cannot invent a submodule.
 */
#include "module_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS (1u << 20)
#define MAX_SLOTS 65536
#define REG_RBX 3
#define REG_RBP 5
#define REG_RSI 6
#define REG_RDI 7

enum reg_kind { REG_UNKNOWN, REG_BLOCK, REG_STATIC, REG_FRESH, REG_FIELD, REG_STATIC_WORD };

struct reg_state {
    enum reg_kind kind;
    struct field_source loaded;   /* REG_STATIC_WORD: the static word and further loads */
    uint64_t value;          /* REG_BLOCK: byte offset into the module block; REG_STATIC:
                                address; REG_FRESH: allocation id; REG_FIELD: field index;
                                REG_STATIC_WORD: unused (see `loaded`) */
    int64_t offset;          /* REG_FRESH: byte offset into that allocation */
};

/* A word of a fresh allocation: a copy of module field `field`, or (field == -1) a block
 * header `header`. One allocation may hold several blocks (the emitter combines them). */
struct slot {
    uint64_t alloc;
    int64_t offset;
    long field;
    uint64_t header;
};

struct decoder {
    const uint8_t *code;
    size_t len;
    uint64_t base;           /* link-time address of code[0] */
    uint64_t initialize;     /* caml_initialize */
    struct module_layout *out;
    struct reg_state reg[16];
    uint64_t next_alloc;
    struct slot *slots;
    size_t nslots;
    size_t last_load_end;    /* where the last load of a module field ended */
    int last_load_reg;
    bool stored;             /* at least one store into the block was decoded */
};

static void forget_registers(struct decoder *d)
{
    memset(d->reg, 0, sizeof d->reg);
    d->last_load_reg = -1;
}

/* After a call of a C function (System V: %rbx, %rbp, %r12-%r15 survive it). */
static void forget_caller_saved(struct decoder *d)
{
    for (unsigned r = 0; r < 16; r++)
        if (r != REG_RBX && r != REG_RBP && r < 12)
            d->reg[r] = (struct reg_state){.kind = REG_UNKNOWN};
    d->last_load_reg = -1;
}

static bool is_rex_w(uint8_t b) { return (b & 0xf8) == 0x48; }

/* ModRM with REX extensions. */
struct modrm {
    unsigned mod, reg, rm;
    size_t len;              /* ModRM + SIB + displacement */
    int64_t disp;
};

static bool decode_modrm(const struct decoder *d, size_t at, uint8_t rex, struct modrm *m)
{
    if (at >= d->len)
        return false;
    uint8_t b = d->code[at];
    m->mod = b >> 6;
    m->reg = ((b >> 3) & 7) | ((rex & 4) ? 8 : 0);
    m->rm = (b & 7) | ((rex & 1) ? 8 : 0);
    m->len = 1;
    m->disp = 0;
    if (m->mod == 3)
        return true;
    if ((b & 7) == 4) {                          /* SIB: only the plain (%rsp)/(%r12) form */
        if (at + 1 >= d->len || d->code[at + 1] != 0x24)
            return false;
        m->len++;
    }
    if (m->mod == 0 && (b & 7) == 5)
        return false;                             /* rip-relative: handled by callers */
    if (m->mod == 1) {
        if (at + m->len >= d->len)
            return false;
        m->disp = (int8_t)d->code[at + m->len];
        m->len += 1;
    } else if (m->mod == 2) {
        if (at + m->len + 4 > d->len)
            return false;
        int32_t v;
        memcpy(&v, d->code + at + m->len, 4);
        m->disp = v;
        m->len += 4;
    }
    return true;
}

static struct slot *find_slot(struct decoder *d, uint64_t alloc, int64_t offset)
{
    for (size_t i = d->nslots; i-- > 0;)
        if (d->slots[i].alloc == alloc && d->slots[i].offset == offset)
            return &d->slots[i];
    return NULL;
}

static void set_slot(struct decoder *d, uint64_t alloc, int64_t offset, long field,
                     uint64_t header)
{
    struct slot *s = find_slot(d, alloc, offset);
    if (s == NULL) {
        if (d->nslots == MAX_SLOTS)
            return;
        s = &d->slots[d->nslots++];
    }
    *s = (struct slot){alloc, offset, field, header};
}

/* The fresh block in %rsi goes to module field `field`: the module fields copied into it
 * belong to a submodule stored there. Only a block whose header was seen is believed. */
static void attach_fresh_block(struct decoder *d, const struct reg_state *v, size_t field)
{
    struct module_layout *l = d->out;
    struct slot *h = find_slot(d, v->value, v->offset - 8);
    if (h == NULL || h->field != -1)
        return;
    int64_t end = v->offset + (int64_t)(8 * (h->header >> 10));
    for (size_t i = 0; i < d->nslots; i++) {
        const struct slot *s = &d->slots[i];
        if (s->alloc == v->value && s->offset >= v->offset && s->offset < end &&
            s->field >= 0 && (size_t)s->field < l->nfields && (size_t)s->field != field &&
            l->parent[s->field] < 0) {
            l->parent[s->field] = (long)field;
            l->index[s->field] = (long)((s->offset - v->offset) / 8);
        }
    }
}

static void store_into_block(struct decoder *d, size_t field)
{
    struct module_layout *l = d->out;
    if (field >= l->nfields)
        return;
    d->stored = true;
    const struct reg_state *v = &d->reg[REG_RSI];
    if (v->kind == REG_STATIC)
        l->value[field] = v->value;
    else if (v->kind == REG_STATIC_WORD)
        l->source[field] = v->loaded;
    else if (v->kind == REG_FRESH)
        attach_fresh_block(d, v, field);
}

/* lea disp32(%rip),%reg | lea 8(%r15),%reg | lea disp(%fresh),%reg. Returns the length,
 * 0 if not a lea. */
static size_t try_lea(struct decoder *d, size_t i, uint8_t rex)
{
    if (i + 2 >= d->len || d->code[i + 1] != 0x8d)
        return 0;
    uint8_t b = d->code[i + 2];
    unsigned reg = ((b >> 3) & 7) | ((rex & 4) ? 8 : 0);
    if ((b & 0xc7) == 0x05 && i + 7 <= d->len) {            /* rip-relative */
        int32_t disp;
        memcpy(&disp, d->code + i + 3, 4);
        uint64_t target = d->base + i + 7 + (uint64_t)(int64_t)disp;
        d->reg[reg].kind = target == d->out->block ? REG_BLOCK : REG_STATIC;
        d->reg[reg].value = target == d->out->block ? 0 : target;
        return 7;
    }
    struct modrm m;
    if (!decode_modrm(d, i + 2, rex, &m) || m.mod == 3)
        return 0;
    if (m.rm == 15 && m.disp == 8) {                          /* lea 8(%r15),%reg */
        d->reg[reg] = (struct reg_state){.kind = REG_FRESH, .value = d->next_alloc++};
    } else if (d->reg[m.rm].kind == REG_FRESH) {
        struct reg_state from = d->reg[m.rm];
        d->reg[reg] = (struct reg_state){.kind = REG_FRESH, .value = from.value,
                                         .offset = from.offset + m.disp};
    } else {
        d->reg[reg].kind = REG_UNKNOWN;
    }
    return 2 + m.len;
}

/* REX.W 8b (load) or 89 (store) with its ModRM. A register-to-register move is done here
 * (then m->mod == 3). False when the bytes are not that instruction. */
static bool decode_mov(struct decoder *d, size_t i, uint8_t rex, uint8_t opcode,
                       struct modrm *m)
{
    if (i + 2 >= d->len || d->code[i + 1] != opcode || !decode_modrm(d, i + 2, rex, m))
        return false;
    if (m->mod == 3 && opcode == 0x8b)
        d->reg[m->reg] = d->reg[m->rm];
    else if (m->mod == 3)
        d->reg[m->rm] = d->reg[m->reg];
    return true;
}

/* mov disp(%base),%reg: a load of a module field (or of a fresh block's copy of one)
 * starts a copy; a load from static data (another unit's block) is remembered as such. */
static size_t try_load(struct decoder *d, size_t i, uint8_t rex)
{
    struct modrm m;
    if (!decode_mov(d, i, rex, 0x8b, &m))
        return 0;
    size_t len = 2 + m.len;
    if (m.mod == 3)
        return len;
    const struct reg_state base = d->reg[m.rm];
    long field = -1;
    if (base.kind == REG_BLOCK && m.disp >= 0 && (base.value + (uint64_t)m.disp) % 8 == 0) {
        field = (long)((base.value + (uint64_t)m.disp) / 8);
    } else if (base.kind == REG_FRESH) {
        const struct slot *s = find_slot(d, base.value, base.offset + m.disp);
        field = s ? s->field : -1;
    } else if (base.kind == REG_STATIC && m.disp >= 0) {
        d->reg[m.reg] = (struct reg_state){.kind = REG_STATIC_WORD};
        d->reg[m.reg].loaded.word = base.value + (uint64_t)m.disp;
        return len;
    } else if (base.kind == REG_STATIC_WORD && m.disp >= 0 &&
               base.loaded.nloads < LAYOUT_MAX_LOADS) {
        d->reg[m.reg] = base;                    /* one level down: Other.Fiber.yield */
        d->reg[m.reg].loaded.load[d->reg[m.reg].loaded.nloads++] = (uint32_t)m.disp;
        return len;
    }
    d->reg[m.reg].kind = field >= 0 ? REG_FIELD : REG_UNKNOWN;
    d->reg[m.reg].value = field >= 0 ? (uint64_t)field : 0;
    if (field >= 0) {
        d->last_load_end = i + len;
        d->last_load_reg = (int)m.reg;
    }
    return len;
}

/* mov %reg,disp(%fresh): a copy into a fresh block when it directly follows the load of
 * a module field. */
static size_t try_store(struct decoder *d, size_t i, uint8_t rex)
{
    struct modrm m;
    if (!decode_mov(d, i, rex, 0x89, &m))
        return 0;
    size_t len = 2 + m.len;
    const struct reg_state dst = d->reg[m.rm];
    if (m.mod == 3 || dst.kind != REG_FRESH)
        return len;
    bool copy = d->last_load_end == i && d->last_load_reg == (int)m.reg &&
                d->reg[m.reg].kind == REG_FIELD;
    set_slot(d, dst.value, dst.offset + m.disp, copy ? (long)d->reg[m.reg].value : -2, 0);
    return len;
}

/* movq $imm32,disp(%fresh): a block header. */
static size_t try_store_imm(struct decoder *d, size_t i, uint8_t rex)
{
    if (i + 2 >= d->len || d->code[i + 1] != 0xc7)
        return 0;
    struct modrm m;
    if (!decode_modrm(d, i + 2, rex, &m) || m.mod == 3 || ((d->code[i + 2] >> 3) & 7) != 0 ||
        i + 2 + m.len + 4 > d->len)
        return 0;
    int32_t imm;
    memcpy(&imm, d->code + i + 2 + m.len, 4);
    const struct reg_state dst = d->reg[m.rm];
    if (dst.kind == REG_FRESH)
        set_slot(d, dst.value, dst.offset + m.disp, -1, (uint64_t)(int64_t)imm);
    return 2 + m.len + 4;
}

/* add $imm8/$imm32,%reg: moves a block pointer to a field, or to the next block. */
static size_t try_add(struct decoder *d, size_t i, uint8_t rex)
{
    if (i + 3 >= d->len)
        return 0;
    uint8_t op = d->code[i + 1], b = d->code[i + 2];
    if ((op != 0x83 && op != 0x81) || (b & 0xf8) != 0xc0)
        return 0;
    unsigned reg = (b & 7) | ((rex & 1) ? 8 : 0);
    int64_t imm;
    size_t len;
    if (op == 0x83) {
        imm = (int8_t)d->code[i + 3];
        len = 4;
    } else {
        if (i + 7 > d->len)
            return 0;
        int32_t v;
        memcpy(&v, d->code + i + 3, 4);
        imm = v;
        len = 7;
    }
    if (d->reg[reg].kind == REG_BLOCK && imm >= 0)
        d->reg[reg].value += (uint64_t)imm;
    else if (d->reg[reg].kind == REG_FRESH)
        d->reg[reg].offset += imm;
    else
        d->reg[reg].kind = REG_UNKNOWN;
    return len;
}

static size_t try_call(struct decoder *d, size_t i)
{
    if (d->code[i] != 0xe8 || i + 5 > d->len)
        return 0;
    int32_t rel;
    memcpy(&rel, d->code + i + 1, 4);
    uint64_t target = d->base + i + 5 + (uint64_t)(int64_t)rel;
    const struct reg_state *dst = &d->reg[REG_RDI];
    bool initialize = target == d->initialize;
    if (initialize && dst->kind == REG_BLOCK && dst->value % 8 == 0)
        store_into_block(d, (size_t)(dst->value / 8));
    if (initialize)
        forget_caller_saved(d);
    else
        forget_registers(d);
    return 5;
}

static void decode_initializer(struct decoder *d)
{
    static size_t (*const forms[])(struct decoder *, size_t, uint8_t) = {
        try_lea, try_load, try_store, try_store_imm, try_add,
    };
    forget_registers(d);
    for (size_t i = 0; i < d->len;) {
        uint8_t b = d->code[i];
        size_t n = 0;
        if (is_rex_w(b)) {
            for (size_t f = 0; n == 0 && f < sizeof forms / sizeof forms[0]; f++)
                n = forms[f](d, i, b);
        } else {
            n = try_call(d, i);
        }
        i += n ? n : 1;
    }
}

static void read_from_initializer(const struct elf_image *img, const char *unit_symbol,
                                  struct module_layout *l)
{
    static const char *const styles[] = {".entry", "__entry"};
    struct elf_symbol init;
    if (elf_image_symbol(img, "caml_initialize", &init) != 0)
        return;
    for (size_t s = 0; s < 2; s++) {
        char name[512];
        snprintf(name, sizeof name, "%s%s", unit_symbol, styles[s]);
        struct elf_symbol entry;
        if (elf_image_symbol(img, name, &entry) != 0 || entry.size == 0)
            continue;
        const uint8_t *code = elf_image_code(img, entry.value, (size_t)entry.size);
        if (code == NULL)
            return;
        struct decoder d = {.code = code, .len = (size_t)entry.size, .base = entry.value,
                            .initialize = init.value, .out = l};
        d.slots = malloc(MAX_SLOTS * sizeof *d.slots);
        if (d.slots == NULL)
            return;
        decode_initializer(&d);
        free(d.slots);
        l->decoded = d.stored;
        return;
    }
}

/* Statically filled blocks (flambda, OCaml 4): the words are the values. */
static void read_static_block(const struct elf_image *img, struct module_layout *l)
{
    uint64_t *words = calloc(l->nfields, sizeof *words);
    if (words == NULL)
        return;
    if (elf_image_read(img, l->block, words, l->nfields * 8) == 0) {
        bool any = false;
        for (size_t f = 0; f < l->nfields; f++) {
            l->value[f] = words[f] & 1 ? 0 : words[f];
            any = any || l->value[f] != 0;
        }
        l->decoded = any;
    }
    free(words);
}

int module_layout_read(const struct elf_image *img, const char *unit_symbol,
                       struct module_layout *out)
{
    memset(out, 0, sizeof *out);
    struct elf_symbol block;
    uint64_t header;
    if (elf_image_symbol(img, unit_symbol, &block) != 0 || block.value < 8 ||
        elf_image_read(img, block.value - 8, &header, sizeof header) != 0)
        return -1;
    if (!elf_image_in_segment(img, block.value, (header >> 10) * 8))
        return -1;               /* a block the file places outside its segments */
    out->block = block.value;
    out->nfields = (size_t)(header >> 10);
    if (out->nfields == 0 || out->nfields > MAX_FIELDS) {
        out->nfields = 0;
        return 0;
    }
    out->value = calloc(out->nfields, sizeof *out->value);
    out->source = calloc(out->nfields, sizeof *out->source);
    out->parent = malloc(out->nfields * sizeof *out->parent);
    out->index = malloc(out->nfields * sizeof *out->index);
    if (out->value == NULL || out->source == NULL || out->parent == NULL ||
        out->index == NULL) {
        module_layout_free(out);
        return -1;
    }
    for (size_t f = 0; f < out->nfields; f++)
        out->parent[f] = out->index[f] = -1;
    read_from_initializer(img, unit_symbol, out);
    if (!out->decoded)
        read_static_block(img, out);
    return 0;
}

void module_layout_free(struct module_layout *l)
{
    free(l->value);
    free(l->source);
    free(l->parent);
    free(l->index);
    l->value = NULL;
    l->source = NULL;
    l->parent = NULL;
    l->index = NULL;
    l->nfields = 0;
}

int module_layout_depth(const struct module_layout *l, size_t field)
{
    if (field >= l->nfields)
        return -1;
    int depth = 0;
    for (long f = l->parent[field]; f >= 0; f = l->parent[f]) {
        if (++depth > 64 || (size_t)f >= l->nfields)
            return -1;                            /* a cycle: misread code */
    }
    return depth;
}
