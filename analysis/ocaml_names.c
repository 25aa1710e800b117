/* ocaml_names: from an OCaml path to candidate native symbols (see ocaml_names.h).
 *
 * Naming facts this relies on (checked with nm on 5.1.4, 5.3.0 and 4.13 binaries):
 *  - OCaml 5: function `caml<Unit>.<fn>_<stamp>`, module block `caml<Unit>`, data
 *    delimited by `caml<Unit>.data_begin`/`.data_end`; OCaml 4 uses "__" where 5 uses ".";
 *  - functions of submodules drop the submodule path (Inner.yield in sched.ml is
 *    camlSched.yield_270), so "A.B.fn" may mean unit A__B or submodule B of unit A: we try
 *    every split, longest unit first;
 *  - characters other than [A-Za-z0-9_] are escaped as $xx (yield' -> yield$27).
 * Invariant: every matching symbol is returned with what distinguishes it (location,
 * whether its static closure is a field of the module block); none is picked silently.
 */
#include "ocaml_names.h"
#include "source_lines.h"

#include <ctype.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_error.h"

#define MAX_PATH_PARTS 16
#define CLOSURE_TAG 247
#define MAX_DATA_SCAN (16u << 20)       /* a module's static data larger than this is odd */

/* ocaml_known_yields is in known_yields.c (the shim's front reads it without libdw). */


/* ---- path parsing ------------------------------------------------------------------ */

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '\'';
}

static bool valid_module_name(const char *s, size_t len)
{
    if (len == 0 || !isupper((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_ident_char(s[i]))
            return false;
    return true;
}

static bool valid_value_name(const char *s, size_t len)
{
    if (len == 0 || !(islower((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_ident_char(s[i]))
            return false;
    return true;
}

struct path_parts {
    const char *start[MAX_PATH_PARTS];
    size_t len[MAX_PATH_PARTS];
    size_t count;                         /* modules = count - 1, then the function */
};

static int parse_path(const char *path, struct path_parts *p)
{
    p->count = 0;
    const char *s = path;
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        if (p->count == MAX_PATH_PARTS)
            return -1;
        p->start[p->count] = s;
        p->len[p->count] = len;
        p->count++;
        if (dot == NULL)
            break;
        s = dot + 1;
    }
    if (p->count < 2)
        return -1;
    for (size_t i = 0; i + 1 < p->count; i++)
        if (!valid_module_name(p->start[i], p->len[i]))
            return -1;
    return valid_value_name(p->start[p->count - 1], p->len[p->count - 1]) ? 0 : -1;
}

/* Appends an identifier with OCaml's symbol escaping ($xx for characters outside
 * [A-Za-z0-9_]). Returns false when it does not fit. */
static bool append_mangled(char *buf, size_t cap, size_t *pos, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int n = isalnum((unsigned char)c) || c == '_'
                    ? snprintf(buf + *pos, cap - *pos, "%c", c)
                    : snprintf(buf + *pos, cap - *pos, "$%02x", (unsigned char)c);
        if (n < 0 || (size_t)n >= cap - *pos)
            return false;
        *pos += (size_t)n;
    }
    return true;
}

/* "caml" + modules[0..nmod) joined by "__". */
static bool unit_symbol(const struct path_parts *p, size_t nmod, char *buf, size_t cap)
{
    size_t pos = 0;
    if (!append_mangled(buf, cap, &pos, "caml", 4))
        return false;
    for (size_t i = 0; i < nmod; i++) {
        if (i > 0 && !append_mangled(buf, cap, &pos, "__", 2))
            return false;
        if (!append_mangled(buf, cap, &pos, p->start[i], p->len[i]))
            return false;
    }
    return true;
}

int ocaml_path_split(const char *path, char *unit_symbol_out, size_t unit_len, char *fn,
                     size_t fn_len)
{
    struct path_parts p;
    if (path == NULL || parse_path(path, &p) != 0)
        return -1;
    if (!unit_symbol(&p, p.count - 1, unit_symbol_out, unit_len))
        return -1;
    size_t flen = p.len[p.count - 1];
    if (flen + 1 > fn_len)
        return -1;
    memcpy(fn, p.start[p.count - 1], flen);
    fn[flen] = '\0';
    return 0;
}

/* ---- symbol search ----------------------------------------------------------------- */

/* One interpretation of the path: unit symbol and the function-symbol prefixes it implies
 * in OCaml 5 ("camlA__B.fn_") and OCaml 4 ("camlA__B__fn_") naming. */
struct interpretation {
    char unit[OCAML_SYMBOL_MAX];
    char prefix5[OCAML_SYMBOL_MAX];
    char prefix4[OCAML_SYMBOL_MAX];
};

struct search {
    const struct elf_image *img;
    struct interpretation interp[MAX_PATH_PARTS];
    size_t ninterp;
    size_t current;                       /* the interpretation being matched */
    struct yield_candidate *out;
    size_t max, found;
};

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool matches_prefix(const char *name, const char *prefix)
{
    size_t len = strlen(prefix);
    return strncmp(name, prefix, len) == 0 && all_digits(name + len);
}

static int match_symbol(const struct elf_symbol *sym, void *ctx)
{
    struct search *s = ctx;
    const struct interpretation *in = &s->interp[s->current];
    if (sym->kind != ELF_SYMBOL_FUNC ||
        !(matches_prefix(sym->name, in->prefix5) || matches_prefix(sym->name, in->prefix4)))
        return 0;
    /* A symbol value is file data: a "function" outside the code is no candidate (the shim
       would compare return addresses against it and call through its closure). */
    if (!elf_image_in_code(s->img, sym->value, sym->size ? sym->size : 1))
        return 0;
    if (s->found < s->max) {
        struct yield_candidate *c = &s->out[s->found];
        memset(c, 0, sizeof *c);
        snprintf(c->code_symbol, sizeof c->code_symbol, "%s", sym->name);
        snprintf(c->module_symbol, sizeof c->module_symbol, "%s", in->unit);
        c->code_addr = sym->value;
        c->module_field = -1;
    }
    s->found++;
    return 0;
}

static bool build_interpretations(const struct path_parts *p, struct search *s)
{
    size_t nmod = p->count - 1;
    char fn[OCAML_SYMBOL_MAX];
    size_t fnpos = 0;
    if (!append_mangled(fn, sizeof fn, &fnpos, p->start[p->count - 1], p->len[p->count - 1]))
        return false;
    s->ninterp = 0;
    for (size_t k = nmod; k >= 1; k--) {           /* longest unit first */
        struct interpretation *in = &s->interp[s->ninterp];
        char unit[OCAML_SYMBOL_MAX];
        if (!unit_symbol(p, k, unit, sizeof unit))
            return false;
        memcpy(in->unit, unit, sizeof unit);
        int n5 = snprintf(in->prefix5, sizeof in->prefix5, "%s.%s_", unit, fn);
        int n4 = snprintf(in->prefix4, sizeof in->prefix4, "%s__%s_", unit, fn);
        if (n5 < 0 || (size_t)n5 >= sizeof in->prefix5 || n4 < 0 ||
            (size_t)n4 >= sizeof in->prefix4)
            return false;
        s->ninterp++;
    }
    return true;
}

/* ---- per-candidate details ---------------------------------------------------------- */

static bool unit_data_range(const struct elf_image *img, const char *unit, uint64_t *begin,
                            uint64_t *end)
{
    static const char *const styles[][2] = {{".data_begin", ".data_end"},
                                            {"__data_begin", "__data_end"}};
    for (size_t i = 0; i < 2; i++) {
        char b[OCAML_SYMBOL_MAX + 16], e[OCAML_SYMBOL_MAX + 16];
        snprintf(b, sizeof b, "%s%s", unit, styles[i][0]);
        snprintf(e, sizeof e, "%s%s", unit, styles[i][1]);
        struct elf_symbol sb, se;
        if (elf_image_symbol(img, b, &sb) == 0 && elf_image_symbol(img, e, &se) == 0 &&
            se.value > sb.value && se.value - sb.value <= MAX_DATA_SCAN) {
            *begin = sb.value;
            *end = se.value;
            return true;
        }
    }
    return false;
}

/* A static closure of code_addr in [begin, end): a Closure_tag block whose first code
 * pointer is code_addr, or whose second is (arity > 1: the first is caml_curryN). Returns
 * the block's value address (header + 8), or 0. */
static uint64_t find_static_closure(const uint64_t *words, size_t nwords, uint64_t begin,
                                    uint64_t code_addr)
{
    for (size_t i = 0; i + 1 < nwords; i++) {
        uint64_t hd = words[i];
        uint64_t wosize = hd >> 10;
        if ((hd & 0xff) != CLOSURE_TAG || wosize < 2 || i + wosize >= nwords + 1)
            continue;
        if (words[i + 1] == code_addr)
            return begin + 8 * (i + 1);
        if (wosize >= 3 && i + 3 < nwords && words[i + 3] == code_addr)
            return begin + 8 * (i + 1);
    }
    return 0;
}

/* Target of a `lea disp32(%rip), %reg` (48 8d, ModRM mod=00 rm=101) at code[i], if the
 * ModRM selects reg_field. */
static bool lea_rip_target(const uint8_t *code, size_t len, size_t i, uint64_t code_addr,
                           unsigned reg_field, uint64_t *target)
{
    if (i + 7 > len || code[i] != 0x48 || code[i + 1] != 0x8d ||
        code[i + 2] != (uint8_t)(0x05 | (reg_field << 3)))
        return false;
    int32_t disp;
    memcpy(&disp, code + i + 3, sizeof disp);
    *target = code_addr + i + 7 + (uint64_t)(int64_t)disp;
    return true;
}

/* OCaml 5 (without flambda) fills the module block at run time, in caml<Unit>.entry:
 *     lea <closure>(%rip),%rsi ; lea <block>(%rip),%rdi ; [add $8k,%rdi] ; call caml_initialize
 * Returns k, or -1 when the initializer has no such store. */
static int field_from_initializer(const struct elf_image *img, const char *unit,
                                  uint64_t block, uint64_t closure)
{
    static const char *const entry_styles[] = {"%s.entry", "%s__entry"};
    for (size_t st = 0; st < 2; st++) {
        char name[OCAML_SYMBOL_MAX + 16];
        snprintf(name, sizeof name, entry_styles[st], unit);
        struct elf_symbol entry;
        if (elf_image_symbol(img, name, &entry) != 0 || entry.size == 0)
            continue;
        const uint8_t *code = elf_image_code(img, entry.value, (size_t)entry.size);
        if (code == NULL)
            return -1;
        size_t len = (size_t)entry.size;
        for (size_t i = 0; i + 14 <= len; i++) {
            uint64_t target;
            if (!lea_rip_target(code, len, i, entry.value, 6 /* rsi */, &target) ||
                target != closure ||
                !lea_rip_target(code, len, i + 7, entry.value, 7 /* rdi */, &target) ||
                target != block)
                continue;
            size_t at = i + 14;
            if (at + 4 <= len && code[at] == 0x48 && code[at + 1] == 0x83 && code[at + 2] == 0xc7)
                return code[at + 3] / 8;                       /* add $imm8, %rdi */
            if (at + 7 <= len && code[at] == 0x48 && code[at + 1] == 0x81 && code[at + 2] == 0xc7) {
                int32_t imm;
                memcpy(&imm, code + at + 3, sizeof imm);    /* add $imm32, %rdi */
                return imm >= 0 ? imm / 8 : -1;
            }
            return 0;
        }
    }
    return -1;
}

static void describe_module_block(const struct elf_image *img, struct yield_candidate *c,
                                  const uint64_t *words, size_t nwords, uint64_t begin)
{
    struct elf_symbol block;
    uint64_t hd;
    if (elf_image_symbol(img, c->module_symbol, &block) != 0 || block.value < 8 ||
        elf_image_read(img, block.value - 8, &hd, sizeof hd) != 0 ||
        !elf_image_in_segment(img, block.value, (hd >> 10) * 8))
        return;                  /* no block, or one the file places outside its segments */
    c->module_block = block.value;
    c->module_block_size = (hd >> 10) * 8;
    if (c->static_closure == 0 || words == NULL)
        return;
    /* Statically filled blocks (OCaml 4, flambda) hold the closure already. */
    if (block.value >= begin + 8) {
        size_t first = (size_t)((block.value - begin) / 8);
        for (size_t f = 0; f < (size_t)(hd >> 10) && first + f < nwords; f++) {
            if (words[first + f] == c->static_closure) {
                c->module_field = (int)f;
                return;
            }
        }
    }
    int field = field_from_initializer(img, c->module_symbol, block.value, c->static_closure);
    if (field >= 0 && (uint64_t)field < (hd >> 10))
        c->module_field = field;
}

static void describe_data(const struct elf_image *img, struct yield_candidate *c)
{
    uint64_t begin, end;
    if (!unit_data_range(img, c->module_symbol, &begin, &end)) {
        describe_module_block(img, c, NULL, 0, 0);
        return;
    }
    begin &= ~(uint64_t)7;
    size_t nwords = (size_t)((end - begin) / 8);
    uint64_t *words = malloc((nwords ? nwords : 1) * sizeof *words);
    if (words == NULL)
        return;
    if (elf_image_read(img, begin, words, nwords * 8) == 0) {
        c->static_closure = find_static_closure(words, nwords, begin, c->code_addr);
        describe_module_block(img, c, words, nwords, begin);
    }
    free(words);
}

/* file:line of each candidate from DWARF line info, when there is any. */
static void describe_locations(const struct elf_image *img, struct yield_candidate *c, size_t n)
{
    struct source_lines *sl = n ? source_lines_open(img) : NULL;
    if (sl == NULL)
        return;                       /* location is optional: "" */
    for (size_t i = 0; i < n; i++)
        source_lines_at(sl, c[i].code_addr, c[i].location, sizeof c[i].location);
    source_lines_close(sl);
}

int ocaml_yield_candidates(const struct elf_image *img, const char *path,
                           struct yield_candidate *out, size_t max, size_t *count,
                           struct analysis_error *err)
{
    *count = 0;
    struct path_parts p;
    if (path == NULL || parse_path(path, &p) != 0) {
        analysis_error_set(err, "malformed OCaml path '%s' (expected Module.function, e.g. "
                           "Eio.Fiber.yield)", path ? path : "");
        return -1;
    }
    struct search *s = calloc(1, sizeof *s);
    if (s == NULL) {
        analysis_error_set(err, "out of memory");
        return -1;
    }
    if (!build_interpretations(&p, s)) {
        free(s);
        analysis_error_set(err, "OCaml path '%s' is too long", path);
        return -1;
    }
    s->img = img;
    s->out = out;
    s->max = max;
    for (s->current = 0; s->current < s->ninterp; s->current++)
        elf_image_each_symbol(img, match_symbol, s);
    size_t filled = s->found < max ? s->found : max;
    for (size_t i = 0; i < filled; i++)
        describe_data(img, &out[i]);
    describe_locations(img, out, filled);
    *count = s->found;
    free(s);
    return 0;
}
