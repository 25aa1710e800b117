/* c_stall_stubs: a C stub that keeps its domain for a given CPU time, for the report of
 * time where no preemption could help (stall_test.sh). Deliberately NOT [@@noalloc]: the
 * OCaml side calls it through caml_c_call, as most bindings are called. */
#include <time.h>

#include <caml/mlvalues.h>

static long long thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spins until this thread has used `ms` more milliseconds of CPU time. */
value c_stall_spin_cpu(value ms)
{
    long long until = thread_cpu_ns() + (long long)Long_val(ms) * 1000000;
    while (thread_cpu_ns() < until)
        ;
    return Val_unit;
}

/* The thread's CPU time, for the OCaml twin's spin (noalloc: called directly). */
intnat c_stall_cpu_ns(value unit)
{
    (void)unit;
    return (intnat)thread_cpu_ns();
}

value c_stall_cpu_ns_byte(value unit)
{
    return Val_long(c_stall_cpu_ns(unit));
}

/* The same spin as a [@@noalloc] external (untagged argument): called directly, with no
 * OCaml stack pointer saved. */
value c_stall_spin_cpu_noalloc(intnat ms)
{
    return c_stall_spin_cpu(Val_long(ms));
}

value c_stall_spin_cpu_noalloc_byte(value ms)
{
    return c_stall_spin_cpu(ms);
}

/* Sleeps `ms` milliseconds without releasing the runtime ([@@noalloc]: no blocking
 * section), using no CPU time: the function a stall report must not charge with the CPU of
 * the spin before it. */
value c_stall_sleep_noalloc(intnat ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0)
        ;
    return Val_unit;
}

value c_stall_sleep_noalloc_byte(value ms)
{
    return c_stall_sleep_noalloc(Long_val(ms));
}

/* The twin of the sleep: the same time spent spinning (CPU time), under another name. */
value c_stall_spin_again_noalloc(intnat ms)
{
    return c_stall_spin_cpu(Val_long(ms));
}

value c_stall_spin_again_noalloc_byte(value ms)
{
    return c_stall_spin_cpu(ms);
}
