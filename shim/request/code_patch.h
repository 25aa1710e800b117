/* code_patch: writing a few bytes into the process's own machine code, never leaving it
 * unexecutable.
 *
 * The runtime's code pages are read+execute. The obvious way to change them (mprotect
 * read+write, write, mprotect read+execute) leaves them non-executable if the second
 * mprotect is refused, e.g. by an SELinux policy that allows execmem but denies execmod
 * (making a modified file-backed page executable): the next call into that page is a
 * SIGSEGV. So, in order:
 *  1. /proc/self/mem, written with pwrite: the kernel writes through read-only private
 *     mappings (FOLL_FORCE, a copy-on-write of the page) and the protection never
 *     changes. Unavailable without procfs or on kernels that refuse forced writes
 *     (proc_mem.force_override=never): then, once anything written is undone, step 2.
 *  2. mprotect read+write+execute over the pages of all the edits, write, then read+execute
 *     again. If read+write+execute is refused nothing is written (never read+write only);
 *     if the return to read+execute is refused the pages stay read+write+execute, still
 *     executable, and the caller is told.
 * All edits are written, or none: a failed edit after others undoes them (same channel).
 * Constructor context: no other thread may execute the edited bytes meanwhile (the caller
 * patches before the code can run; the pages around them stay executable throughout).
 */
#ifndef OCPREEMPT_CODE_PATCH_H
#define OCPREEMPT_CODE_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODE_EDIT_MAX 16                   /* bytes per edit */

struct code_edit {
    uintptr_t at;                          /* first byte to replace, in executable code */
    size_t len;                            /* 1..CODE_EDIT_MAX */
    unsigned char bytes[CODE_EDIT_MAX];
};

/* How the edits were written. */
enum code_patch_channel {
    CODE_PATCH_PROC_MEM,                   /* /proc/self/mem: protection never changed */
    CODE_PATCH_MPROTECT,                   /* rwx then r-x again */
    CODE_PATCH_MPROTECT_LEFT_RWX,          /* rwx, and returning to r-x was refused */
};

/* Writes the `count` edits. 0 with *channel set, or -1 with a one-line reason (then
 * nothing of the edits is in the code, and the code is executable as before). */
int code_patch_write(const struct code_edit *edits, size_t count,
                     enum code_patch_channel *channel, char *why, size_t why_len);

/* A few words for a log line: "through /proc/self/mem", ... */
const char *code_patch_channel_name(enum code_patch_channel channel);

#endif
