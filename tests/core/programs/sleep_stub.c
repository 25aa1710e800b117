/* sleep_stub: a sleep that keeps the runtime (no blocking section), so that no hook sees
 * the thread stop running OCaml: what a C call that blocks without releasing the runtime
 * looks like to the shim. */
#include <errno.h>
#include <time.h>

#include <caml/mlvalues.h>

value core_sleep_holding_runtime(value seconds)
{
    double s = Double_val(seconds);
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return Val_unit;
}
