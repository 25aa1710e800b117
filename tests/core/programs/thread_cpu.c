/* thread_cpu: the calling thread's CPU time, the clock the shim's quantum is measured in
 * (CLOCK_THREAD_CPUTIME_ID), for tests that must compare a fiber's run with the quantum
 * exactly as the shim does. Allocation-free, so it may be called anywhere. */
#include <time.h>

#include <caml/mlvalues.h>

intnat core_thread_cpu_ns(value unit)
{
    (void)unit;
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (intnat)ts.tv_sec * 1000000000 + (intnat)ts.tv_nsec;
}

value core_thread_cpu_ns_byte(value unit)
{
    return Val_long(core_thread_cpu_ns(unit));
}
