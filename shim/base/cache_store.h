/* cache_store: where the analysis cache lives, which file is this process's, reading it and
 * writing it (docs/design.md, "The analysis cache"). The records themselves are the
 * stages' (shim/engine/analysis_cache.c gathers them).
 *
 * Invariants:
 *  - the key names everything the analysis is a function of: the executable (GNU build-id,
 *    size, mtime, inode, device), the engine build (version, its own build-id and file
 *    identity: the records are raw structs of that build), and every configuration
 *    variable the config table does not mark analysis_free; one file per executable and
 *    engine, so another configuration overwrites it;
 *  - a file is used only if it is ours (owned by this user, not writable by others), fits
 *    CACHE_FILE_MAX and passes cache_file_parse; anything else falls back to the full
 *    analysis, silently but for a debug line and the stats (cache_store_status);
 *  - written whole to a temporary file then rename()d: a reader sees the old file or the
 *    new one, never a mix, whatever the number of processes starting at once; the folder
 *    keeps at most CACHE_FOLDER_FILES files, the oldest removed;
 *  - the checksum detects corruption, not forgery: a user who can write this folder can
 *    also set LD_PRELOAD; the stages still bound every field they restore.
 * Start-up context only (constructor); the status is read by the exit report.
 */
#ifndef OCPREEMPT_CACHE_STORE_H
#define OCPREEMPT_CACHE_STORE_H

#include <stddef.h>

#include "cache_file.h"
#include "config.h"

#define CACHE_FOLDER_FILES 64

enum cache_status {
    CACHE_UNTRIED,      /* the engine never got this far (inert, or disabled) */
    CACHE_OFF,          /* OCPREEMPT_ANALYSIS_CACHE=off */
    CACHE_HIT,          /* the analysis came from the file */
    CACHE_WRITTEN,      /* analysed, and the result stored */
    CACHE_UNUSABLE,     /* analysed; the cache could not be read or written (why) */
};

/* Decides the folder and the key for this process. 0, or -1 (status set: off, or
 * unusable with why). */
int cache_store_open(const struct ocpreempt_config *cfg);

/* Reads and checks this process's file. 0 with *view filled (the bytes stay allocated for
 * the life of the process: restored names point into them), or -1 (a miss: no file, or one
 * refused, the reason kept for the stats and a debug line). */
int cache_store_read(struct cache_view *view);

/* Writes a finished builder atomically and trims the folder; sets the status. */
void cache_store_write(const struct cache_builder *b);

/* Marks the result of a read whose records a stage refused (why). */
void cache_store_refused(const char *why);
void cache_store_hit(void);

/* The key, for cache_builder_begin. */
const char *cache_store_key(size_t *len);

enum cache_status cache_store_status(void);
const char *cache_store_status_name(enum cache_status s);
const char *cache_store_why(void);         /* "" when there is nothing to add */
const char *cache_store_path(void);        /* the file, "" when off */

#endif
