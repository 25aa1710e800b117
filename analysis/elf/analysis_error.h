/* analysis_error: how the analysis library fills `struct analysis_error` (internal).
 *
 * Invariant: messages are single lines, truncated to ANALYSIS_ERR_LEN, never printed here.
 */
#ifndef OCPREEMPT_ANALYSIS_ERROR_H
#define OCPREEMPT_ANALYSIS_ERROR_H

#include "elf_image.h"

/* printf-style; a NULL err is accepted and ignored. */
void analysis_error_set(struct analysis_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
