/* clock_reads: ns per read of rdtsc, CLOCK_MONOTONIC (vDSO) and CLOCK_THREAD_CPUTIME_ID (a
 * system call): why the self-clock reads the TSC at every trip and the CPU clock only at a
 * due one (docs/design.md, "Self-clocking"). Not built by CMake: gcc -O2 bench/clock_reads.c. */
#include <stdio.h>
#include <stdint.h>
#include <time.h>
static inline uint64_t rdtsc(void){uint32_t lo,hi;__asm__ volatile("rdtsc":"=a"(lo),"=d"(hi));return ((uint64_t)hi<<32)|lo;}
static double ns_per(clockid_t c,int n){struct timespec a,b,t;clock_gettime(CLOCK_MONOTONIC,&a);for(int i=0;i<n;i++)clock_gettime(c,&t);clock_gettime(CLOCK_MONOTONIC,&b);return ((b.tv_sec-a.tv_sec)*1e9+(b.tv_nsec-a.tv_nsec))/n;}
int main(void){int n=2000000;volatile uint64_t s=0;struct timespec a,b;
clock_gettime(CLOCK_MONOTONIC,&a);for(int i=0;i<n;i++)s+=rdtsc();clock_gettime(CLOCK_MONOTONIC,&b);
printf("rdtsc %.1f ns\n",((b.tv_sec-a.tv_sec)*1e9+(b.tv_nsec-a.tv_nsec))/n);
printf("CLOCK_MONOTONIC %.1f ns\n",ns_per(CLOCK_MONOTONIC,n));
printf("CLOCK_THREAD_CPUTIME_ID %.1f ns\n",ns_per(CLOCK_THREAD_CPUTIME_ID,n/4));return 0;}
