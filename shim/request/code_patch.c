/* code_patch: see code_patch.h.
 *
 * Invariants:
 *  - no page of the edits is ever without execute permission: /proc/self/mem changes no
 *    protection, and the mprotect channel only ever asks for read+write+execute or
 *    read+execute;
 *  - the original bytes are saved before the first write; after a failed write the code
 *    itself is compared with them, and what differs is put back through the same channel:
 *    only code equal to the saved bytes counts as "nothing written".
 */
#define _GNU_SOURCE
#include "code_patch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CODE_PATCH_MAX_EDITS 8

const char *code_patch_channel_name(enum code_patch_channel channel)
{
    switch (channel) {
    case CODE_PATCH_PROC_MEM:
        return "through /proc/self/mem";
    case CODE_PATCH_MPROTECT:
        return "through mprotect";
    case CODE_PATCH_MPROTECT_LEFT_RWX:
        return "through mprotect; returning to read+execute was refused, so those pages "
               "stay read+write+execute";
    }
    return "?";
}

/* ---- channel 1: /proc/self/mem -------------------------------------------------------- */

static bool pwrite_all(int fd, const unsigned char *bytes, size_t len, uintptr_t at)
{
    ssize_t n;
    do
        n = pwrite(fd, bytes, len, (off_t)at);
    while (n < 0 && errno == EINTR);
    if (n >= 0 && (size_t)n != len)
        errno = EIO;                    /* a short write of a few bytes: never seen */
    return n >= 0 && (size_t)n == len;
}

/* 0 all written; 1 nothing written, or all undone (why says why: the caller may try
 * mprotect); -1 a write failed and undoing failed too (why says so). */
static int write_proc_mem(const struct code_edit *edits, size_t count,
                          unsigned char saved[][CODE_EDIT_MAX], char *why, size_t why_len)
{
    int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_len, "open /proc/self/mem: %s", strerror(errno));
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        if (pwrite_all(fd, edits[i].bytes, edits[i].len, edits[i].at))
            continue;
        int err = errno;
        bool undone = true;
        for (size_t j = 0; j <= i; j++) {  /* the failed one too: it may be half-written */
            const void *code = (const void *)edits[j].at;
            if (memcmp(code, saved[j], edits[j].len) != 0)
                pwrite_all(fd, saved[j], edits[j].len, edits[j].at);
            undone = undone && memcmp(code, saved[j], edits[j].len) == 0;
        }
        snprintf(why, why_len, "write to /proc/self/mem: %s%s", strerror(err),
                 undone ? "" : "; undoing it failed too: the code is half-patched");
        rc = undone ? 1 : -1;
        break;
    }
    close(fd);
    return rc;
}

/* ---- channel 2: mprotect, never without execute ---------------------------------------- */

static void page_range(const struct code_edit *e, uintptr_t *first, uintptr_t *end)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    *first = e->at & ~(page - 1);
    *end = (e->at + e->len + page - 1) & ~(page - 1);
}

/* mprotect of edit i's pages, unless an earlier edit's pages cover them already (the two
 * routines usually share a page: one request per page, so one refusal cannot leave a page
 * half-described). */
static int protect_pages(const struct code_edit *edits, size_t i, int prot)
{
    uintptr_t first, end;
    page_range(&edits[i], &first, &end);
    for (size_t j = 0; j < i; j++) {
        uintptr_t f, e;
        page_range(&edits[j], &f, &e);
        if (f <= first && end <= e)
            return 0;
    }
    return mprotect((void *)first, end - first, prot);
}

/* Back to read+execute; false if any page had to stay read+write+execute. */
static bool restore_pages(const struct code_edit *edits, size_t count)
{
    bool all = true;
    for (size_t i = 0; i < count; i++)
        all = protect_pages(edits, i, PROT_READ | PROT_EXEC) == 0 && all;
    return all;
}

static int write_mprotect(const struct code_edit *edits, size_t count,
                          enum code_patch_channel *channel, char *why, size_t why_len)
{
    for (size_t i = 0; i < count; i++) {
        if (protect_pages(edits, i, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
            snprintf(why, why_len, "mprotect read+write+execute: %s", strerror(errno));
            restore_pages(edits, i);        /* nothing written; rwx left is still executable */
            return -1;
        }
    }
    for (size_t i = 0; i < count; i++)
        memcpy((void *)edits[i].at, edits[i].bytes, edits[i].len);
    *channel = restore_pages(edits, count) ? CODE_PATCH_MPROTECT : CODE_PATCH_MPROTECT_LEFT_RWX;
    return 0;
}

int code_patch_write(const struct code_edit *edits, size_t count,
                     enum code_patch_channel *channel, char *why, size_t why_len)
{
    if (count > CODE_PATCH_MAX_EDITS) {
        snprintf(why, why_len, "too many code edits (%zu)", count);
        return -1;
    }
    unsigned char saved[CODE_PATCH_MAX_EDITS][CODE_EDIT_MAX];
    for (size_t i = 0; i < count; i++) {
        if (edits[i].len == 0 || edits[i].len > CODE_EDIT_MAX) {
            snprintf(why, why_len, "code edit of %zu bytes", edits[i].len);
            return -1;
        }
        memcpy(saved[i], (const void *)edits[i].at, edits[i].len);
    }
    char proc_mem_why[160];
    int rc = write_proc_mem(edits, count, saved, proc_mem_why, sizeof proc_mem_why);
    if (rc == 0) {
        *channel = CODE_PATCH_PROC_MEM;
        return 0;
    }
    if (rc < 0) {
        snprintf(why, why_len, "%s", proc_mem_why);
        return -1;
    }
    char mprotect_why[160];
    if (write_mprotect(edits, count, channel, mprotect_why, sizeof mprotect_why) == 0)
        return 0;
    snprintf(why, why_len, "%s; %s", proc_mem_why, mprotect_why);
    return -1;
}
