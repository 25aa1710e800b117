/* report_out: see report_out.h. */
#include "report_out.h"

#include <stdarg.h>
#include <stdio.h>

void report_put(struct report_out *o, const char *fmt, ...)
{
    if (o->used + 1 >= o->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n < o->len - o->used ? (size_t)n : o->len - o->used - 1;
}

void report_json_string(struct report_out *o, const char *s)
{
    report_put(o, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            report_put(o, "\\%c", c);
        else if (c < 0x20)
            report_put(o, "\\u%04x", c);
        else
            report_put(o, "%c", c);
    }
    report_put(o, "\"");
}
