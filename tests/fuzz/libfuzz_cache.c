/* libfuzz_cache: libFuzzer harness over the analysis cache's reader (shim/base/
 * cache_file.c; clang -fsanitize=fuzzer). The input is a cache file; it is parsed against
 * the key it carries itself (so mutations reach the records, past the key check) without
 * the checksum (so they are not all stopped by it), then with it. Contract, checked after
 * every accepted parse: each record lies inside the input, no tag twice, and every array
 * view of a record is a whole number of elements inside it. A broken contract aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache_file.h"

static void check_view(const uint8_t *data, size_t size, const struct cache_view *v)
{
    if (v->count > CACHE_RECORDS_MAX)
        abort();
    for (size_t i = 0; i < v->count; i++) {
        const struct cache_record *r = &v->records[i];
        if (r->bytes < data || r->len > size || r->bytes - data > (ptrdiff_t)(size - r->len))
            abort();
        for (size_t j = 0; j < i; j++)
            if (v->records[j].tag == r->tag)
                abort();
        static const size_t sizes[] = { 1, 8, 13, 16, 24, 32, 160 };
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t count;
            const uint8_t *a = cache_view_array(v, r->tag, sizes[k], 1u << 20, &count);
            if (a && (a != r->bytes || count * sizes[k] != r->len))
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cache_view view;
    char why[160];
    uint32_t key_len = 0;
    if (size >= 36)
        memcpy(&key_len, data + 32, 4);
    const char *key = "";
    if (size >= 36 && key_len <= size - 36)
        key = (const char *)data + 36;
    else
        key_len = 0;
    for (int checksum = 0; checksum < 2; checksum++) {
        why[0] = '\0';
        if (cache_file_parse(data, size, key, key_len, checksum, &view, why, sizeof why) == 0)
            check_view(data, size, &view);
        else if (why[0] == '\0' || strchr(why, '\n'))
            abort();                  /* a refusal always says why, on one line */
    }
    return 0;
}
