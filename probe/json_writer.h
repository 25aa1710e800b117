/* json_writer: a minimal streaming JSON emitter for the probe's --json output.
 *
 * Invariants: output is valid JSON whatever the strings hold (control characters and
 * non-ASCII bytes are escaped as \u00XX, so even invalid UTF-8 in symbol names stays
 * valid JSON); indentation is 2 spaces; a key is given inside objects, NULL inside arrays;
 * nesting deeper than JSON_MAX_DEPTH is a programming error and is clamped.
 */
#ifndef OCPREEMPT_PROBE_JSON_WRITER_H
#define OCPREEMPT_PROBE_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
    FILE *out;
    int depth;
    bool has_items[JSON_MAX_DEPTH];
};

void json_init(struct json_writer *w, FILE *out);
void json_begin_object(struct json_writer *w, const char *key);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w, const char *key);
void json_end_array(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value);  /* NULL: null */
void json_uint(struct json_writer *w, const char *key, uint64_t value);
void json_int(struct json_writer *w, const char *key, int64_t value);
void json_double(struct json_writer *w, const char *key, double value);
void json_bool(struct json_writer *w, const char *key, bool value);
void json_null(struct json_writer *w, const char *key);
void json_hex(struct json_writer *w, const char *key, uint64_t value);  /* "0x1a2b" */
void json_finish(struct json_writer *w);                               /* final newline */

#endif
