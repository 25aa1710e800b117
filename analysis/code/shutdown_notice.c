/* shutdown_notice: see shutdown_notice.h. Decodes at most the bytes of caml_shutdown and
 * caml_free_locale (their symbol sizes, capped), instruction by instruction. */
#include "shutdown_notice.h"

#include <stdbool.h>
#include <string.h>

#include "x86_length.h"

#define MAX_FUNCTION_BYTES 4096     /* both are a few dozen instructions */

struct calls {
    bool decoded;                   /* every instruction was known */
    bool calls_target;              /* a call rel32 to `target` */
    unsigned any_calls;             /* calls of any kind (rel32 or indirect) */
};

static void scan_calls(const struct elf_image *img, const struct elf_symbol *fn,
                       uint64_t target, struct calls *out)
{
    memset(out, 0, sizeof *out);
    size_t size = fn->size < MAX_FUNCTION_BYTES ? (size_t)fn->size : MAX_FUNCTION_BYTES;
    const uint8_t *code = size ? elf_image_code(img, fn->value, size) : NULL;
    if (code == NULL)
        return;
    size_t at = 0;
    while (at < size) {
        struct x86_insn insn;
        if (x86_decode(code + at, size - at, &insn) != 0)
            return;
        uint64_t next = fn->value + at + insn.length;
        if (insn.flow == X86_FLOW_CALL) {
            out->any_calls++;
            if (next + (uint64_t)insn.displacement == target)
                out->calls_target = true;
        } else if (code[at] == 0xff && insn.length >= 2 && ((code[at + 1] >> 3) & 7) == 2) {
            out->any_calls++;       /* call *...: -fno-plt's call *freelocale@GOT */
        }
        at += insn.length;
    }
    out->decoded = true;
}

void shutdown_notice_decide(const struct elf_image *img, struct shutdown_notice *out)
{
    memset(out, 0, sizeof *out);
    out->kind = NOTICE_NONE;
    struct elf_symbol shutdown, free_locale;
    if (elf_image_symbol(img, "caml_shutdown", &shutdown) != 0) {
        out->why = "no caml_shutdown in the binary: the at-exit report only";
        return;
    }
    bool have_free_locale = elf_image_symbol(img, "caml_free_locale", &free_locale) == 0;
    struct calls in_shutdown, in_free_locale;
    scan_calls(img, &shutdown, have_free_locale ? free_locale.value : 0, &in_shutdown);
    if (!in_shutdown.decoded) {
        out->why = "caml_shutdown's code could not be decoded: the at-exit report only";
        return;
    }
    if (have_free_locale && in_shutdown.calls_target) {
        scan_calls(img, &free_locale, 0, &in_free_locale);
        if (!in_free_locale.decoded || in_free_locale.any_calls == 0) {
            out->why = "caml_free_locale calls no freelocale (runtime without locale "
                       "support?): the at-exit report only";
            return;
        }
        out->kind = NOTICE_FROM_FREE_LOCALE;
        out->caller = free_locale.value;
        out->caller_end = free_locale.value + free_locale.size;
        out->why = "freelocale from caml_free_locale (unless newlocale failed at start-up)";
        return;
    }
    if (in_shutdown.any_calls == 0) {
        out->why = "caml_shutdown calls nothing: the at-exit report only";
        return;
    }
    out->kind = NOTICE_FROM_SHUTDOWN;
    out->caller = shutdown.value;
    out->caller_end = shutdown.value + shutdown.size;
    out->why = "freelocale from caml_shutdown itself (caml_free_locale inlined into it)";
}
