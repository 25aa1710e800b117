/* analysis_cache: the engine's start-up from the analysis cache, and the cache's filling
 * (docs/design.md, "The analysis cache"; the file and its key: base/cache_store.h).
 *
 * A hit replaces identify + prepare: every stage restores its tables from its records
 * (each record checked field by field by its stage; any refusal is a miss, and the stages
 * a full analysis rebuilds start afresh). Only an analysis that made the engine active is
 * stored, after the switch hook was installed, so a hit always means "active" with the
 * same tables. Start-up context only.
 */
#ifndef OCPREEMPT_ANALYSIS_CACHE_H
#define OCPREEMPT_ANALYSIS_CACHE_H

#include <stddef.h>

#include "cache_file.h"
#include "exe_memory.h"

/* Restores runtime, yield, extents, code owners, sites and inlined frames. 0, or -1 with
 * why (nothing usable: analyse). */
int analysis_cache_restore(const struct cache_view *v, const struct exe_memory *m, char *why,
                           size_t why_len);

/* Writes this process's analysis (after a full one that made the engine active). */
void analysis_cache_save(void);

#endif
