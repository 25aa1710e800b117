/* json_writer: streaming JSON emitter (see json_writer.h). */
#include "json_writer.h"

#include <inttypes.h>

void json_init(struct json_writer *w, FILE *out)
{
    w->out = out;
    w->depth = 0;
    w->has_items[0] = false;
}

static void write_escaped(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Comma, newline, indentation and key before any value. */
static void start_item(struct json_writer *w, const char *key)
{
    if (w->depth > 0) {
        if (w->has_items[w->depth])
            fputc(',', w->out);
        fputc('\n', w->out);
        for (int i = 0; i < w->depth; i++)
            fputs("  ", w->out);
        w->has_items[w->depth] = true;
    }
    if (key != NULL) {
        write_escaped(w->out, key);
        fputs(": ", w->out);
    }
}

static void open_container(struct json_writer *w, const char *key, char bracket)
{
    start_item(w, key);
    fputc(bracket, w->out);
    if (w->depth + 1 < JSON_MAX_DEPTH)
        w->depth++;
    w->has_items[w->depth] = false;
}

static void close_container(struct json_writer *w, char bracket)
{
    bool had_items = w->has_items[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (had_items) {
        fputc('\n', w->out);
        for (int i = 0; i < w->depth; i++)
            fputs("  ", w->out);
    }
    fputc(bracket, w->out);
}

void json_begin_object(struct json_writer *w, const char *key) { open_container(w, key, '{'); }
void json_end_object(struct json_writer *w) { close_container(w, '}'); }
void json_begin_array(struct json_writer *w, const char *key) { open_container(w, key, '['); }
void json_end_array(struct json_writer *w) { close_container(w, ']'); }

void json_string(struct json_writer *w, const char *key, const char *value)
{
    start_item(w, key);
    if (value == NULL)
        fputs("null", w->out);
    else
        write_escaped(w->out, value);
}

void json_uint(struct json_writer *w, const char *key, uint64_t value)
{
    start_item(w, key);
    fprintf(w->out, "%" PRIu64, value);
}

void json_int(struct json_writer *w, const char *key, int64_t value)
{
    start_item(w, key);
    fprintf(w->out, "%" PRId64, value);
}

void json_double(struct json_writer *w, const char *key, double value)
{
    start_item(w, key);
    fprintf(w->out, "%.4f", value);
}

void json_bool(struct json_writer *w, const char *key, bool value)
{
    start_item(w, key);
    fputs(value ? "true" : "false", w->out);
}

void json_null(struct json_writer *w, const char *key)
{
    start_item(w, key);
    fputs("null", w->out);
}

void json_hex(struct json_writer *w, const char *key, uint64_t value)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%" PRIx64, value);
    json_string(w, key, buf);
}

void json_finish(struct json_writer *w)
{
    fputc('\n', w->out);
}
