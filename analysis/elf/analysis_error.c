/* analysis_error: see analysis_error.h. */
#include "analysis_error.h"

#include <stdarg.h>
#include <stdio.h>

void analysis_error_set(struct analysis_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}
