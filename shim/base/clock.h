/* clock: the engine's two clocks, in nanoseconds. Any thread, not signal context.
 *  - monotonic_ns: CLOCK_MONOTONIC, wall time for deadlines (the monitor's looks, the trace);
 *  - thread_cpu_ns: a thread's CPU clock (pthread_getcpuclockid), what a quantum measures;
 *    0 when the clock cannot be read (the thread is gone).
 */
#ifndef OCPREEMPT_CLOCK_H
#define OCPREEMPT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t timespec_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

uint64_t monotonic_ns(void);
uint64_t thread_cpu_ns(clockid_t clock);

#endif
