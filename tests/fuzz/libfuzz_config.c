/* libfuzz_config: libFuzzer harness over the OCPREEMPT_* parser (clang -fsanitize=fuzzer).
 * An input is up to 8 lines; each line's first byte picks a variable from the
 * configuration table (so new variables are covered as soon as they exist; one value of
 * the byte picks an unknown OCPREEMPT_ name), the rest is its value. A broken contract
 * (fuzz_config_contract) aborts, which libFuzzer reports as a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_target.h"

#define MAX_VARS 8
#define MAX_LINE 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char storage[MAX_VARS][MAX_LINE + 64];
    char *env[MAX_VARS];
    size_t count = 0, at = 0, options = config_option_count();
    while (at < size && count < MAX_VARS) {
        const uint8_t *end = memchr(data + at, '\n', size - at);
        size_t len = end ? (size_t)(end - (data + at)) : size - at;
        if (len > 0 && len <= MAX_LINE) {
            size_t pick = data[at] % (options + 1);
            const struct config_option_doc *doc = config_option_doc(pick);
            const char *name = doc ? doc->name : "OCPREEMPT_NO_SUCH_VARIABLE";
            size_t n = strlen(name);
            memcpy(storage[count], name, n);
            storage[count][n] = '=';
            memcpy(storage[count] + n + 1, data + at + 1, len - 1);
            storage[count][n + len] = '\0';      /* embedded NULs just cut the value */
            env[count] = storage[count];
            count++;
        }
        at += len + 1;
    }
    if (fuzz_config_contract(env, count) != 0)
        abort();
    return 0;
}
