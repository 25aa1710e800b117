/* analysis_cache: see analysis_cache.h. */
#include "analysis_cache.h"

#include <stdio.h>
#include <string.h>

#include "cache_store.h"
#include "inline_frames.h"
#include "landing.h"
#include "runtime.h"
#include "site_table.h"
#include "switch_hook.h"
#include "yield_target.h"

int analysis_cache_restore(const struct cache_view *v, const struct exe_memory *m, char *why,
                           size_t why_len)
{
    size_t len;
    const uint8_t *rt = cache_view_get(v, CACHE_TAG_RUNTIME, &len);
    struct runtime_cached runtime;
    if (!rt || len != sizeof runtime) {
        snprintf(why, why_len, "runtime record missing");
        return -1;
    }
    memcpy(&runtime, rt, sizeof runtime);
    const uint8_t *y = cache_view_get(v, CACHE_TAG_YIELD, &len);
    static struct yield_cached yield;           /* large: off the stack */
    if (!y || len != sizeof yield) {
        snprintf(why, why_len, "yield record missing");
        return -1;
    }
    memcpy(&yield, y, sizeof yield);
    /* In the order of a full analysis: the ones after read what the ones before set
       (the bias, the yield's code, the extents). Inlined frames last: they cannot fail
       half-way. */
    if (runtime_restore(&runtime, m, why, why_len) != 0 ||
        yield_target_restore(&yield, m, why, why_len) != 0 ||
        landing_restore(v, m, why, why_len) != 0 || site_table_restore(v, m, why, why_len) != 0)
        return -1;
    if (inline_frames_restore(v, m) != 0) {
        snprintf(why, why_len, "inlined frames record out of range");
        return -1;
    }
    return 0;
}

void analysis_cache_save(void)
{
    static struct runtime_cached runtime;
    static struct yield_cached yield;
    size_t key_len;
    const char *key = cache_store_key(&key_len);
    struct cache_builder b;
    cache_builder_begin(&b, key, key_len);
    if (runtime_export(&runtime) != 0)
        b.failed = true;
    yield_target_export(&yield);
    cache_builder_add(&b, CACHE_TAG_RUNTIME, &runtime, sizeof runtime);
    cache_builder_add(&b, CACHE_TAG_YIELD, &yield, sizeof yield);
    landing_export(&b);
    site_table_export(&b);
    inline_frames_export(&b, ocaml_rt.bias);
    switch_hook_export(&b);
    if (cache_builder_finish(&b) == 0)
        cache_store_write(&b);
    else
        cache_store_refused("the analysis does not fit the cache's records; not written");
    cache_builder_free(&b);
}
