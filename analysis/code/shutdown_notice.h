/* shutdown_notice: how, if at all, the engine will hear of caml_shutdown in this binary.
 *
 * The engine must go quiet before caml_shutdown frees the runtime's memory (shim/
 * shutdown.h). It hears of it through the runtime's last libc call before the frees:
 * freelocale, called by caml_free_locale from caml_shutdown; the front interposes it and
 * accepts only a call whose return address lies in the expected function. Whether that
 * call happens is a property of the binary, decided here, statically, once at start-up
 * (and reported by the probe). Invariants: code is read through elf_image_code and decoded
 * with x86_decode only; anything undecidable is NOTICE_NONE, never a guess that would
 * make the engine wait for a notice that cannot come.
 */
#ifndef OCPREEMPT_SHUTDOWN_NOTICE_H
#define OCPREEMPT_SHUTDOWN_NOTICE_H

#include <stdint.h>

#include "elf_image.h"

enum shutdown_notice_kind {
    NOTICE_FROM_FREE_LOCALE,   /* caml_shutdown calls caml_free_locale, which calls
                                  freelocale (the release's ordinary build) */
    NOTICE_FROM_SHUTDOWN,      /* caml_shutdown does not call caml_free_locale (inlined
                                  into it, an LTO build): its own freelocale call counts */
    NOTICE_NONE,               /* no caml_shutdown, or caml_free_locale calls nothing
                                  (a runtime without locale support): at-exit only */
};

struct shutdown_notice {
    enum shutdown_notice_kind kind;
    uint64_t caller, caller_end;   /* link-time range the freelocale call returns into */
    const char *why;               /* static text: one phrase for the probe and the log */
};

void shutdown_notice_decide(const struct elf_image *img, struct shutdown_notice *out);

#endif
