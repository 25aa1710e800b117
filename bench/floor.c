/* floor: the physical floor of a request path that wakes once per period. A bare C thread
 * sleeps with clock_nanosleep to absolute CLOCK_MONOTONIC deadlines PERIOD_NS apart for
 * SECONDS and does nothing else (timer slack as the monitor's: PERIOD_NS/64, >= 1 us).
 * Prints "bench: wakes=N cpu_ns=C wall_s=W": its own CPU time (CLOCK_THREAD_CPUTIME_ID).
 *   floor PERIOD_NS SECONDS */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

static long long ns_of(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: floor PERIOD_NS SECONDS\n");
        return 2;
    }
    long long period = atoll(argv[1]);
    double seconds = atof(argv[2]);
    long long slack = period / 64 > 1000 ? period / 64 : 1000;
    prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
    struct timespec start, now, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &start);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    long long next = ns_of(&start), end = next + (long long)(seconds * 1e9), wakes = 0;
    do {
        next += period;
        struct timespec d = { next / 1000000000LL, next % 1000000000LL };
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL);
        wakes++;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (ns_of(&now) < end);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    printf("bench: wakes=%lld cpu_ns=%lld wall_s=%.6f\n", wakes, ns_of(&c1) - ns_of(&c0),
           (ns_of(&now) - ns_of(&start)) / 1e9);
    return 0;
}
