/* analysis_error: the one-line reason every analysis function returns with -1, and how the
 * analysis library fills it.
 *
 * Invariant: messages are single lines, truncated to ANALYSIS_ERR_LEN, never printed here.
 * The bottom of the analysis stages: it includes no other header of the library, so every
 * unit may use it (elf_image.h does, for its prototypes).
 */
#ifndef OCPREEMPT_ANALYSIS_ERROR_H
#define OCPREEMPT_ANALYSIS_ERROR_H

#define ANALYSIS_ERR_LEN 256

struct analysis_error {
    char msg[ANALYSIS_ERR_LEN];
};

/* printf-style; a NULL err is accepted and ignored. Internal to the analysis library. */
void analysis_error_set(struct analysis_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
