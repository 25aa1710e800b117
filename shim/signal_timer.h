/* signal_timer: the signal request path (OCPREEMPT_REQUEST=signal).
 *
 * Each registered thread gets a CPU-time timer (timer_create on CLOCK_THREAD_CPUTIME_ID,
 * SIGEV_THREAD_ID to itself) firing OCPREEMPT_SIGNAL every quantum/2 of its CPU time, and
 * an alternate signal stack (fiber stacks are small and unguarded: a signal frame there
 * would overwrite the heap). The handler (signal_safe.c) is installed with SA_ONSTACK |
 * SA_RESTART | SA_SIGINFO.
 *
 * sigaction() and signal() are interposed for that one signal: a handler the program
 * installs is remembered, not installed, and receives every instance of the signal that
 * is not our timer's (Go's fwdSig). The program sees its own handler as installed.
 */
#ifndef OCPREEMPT_SIGNAL_TIMER_H
#define OCPREEMPT_SIGNAL_TIMER_H

#include <signal.h>
#include <stddef.h>

#include "thread_registry.h"

#define SIGNAL_TIMER_COOKIE ((void *)0x6f637072656d7074ull)   /* "ocpremp t" */

/* Installs the handler. 0, or -1 with a one-line reason. Constructor context. */
int signal_timer_start(char *why, size_t why_len);

/* Arms the calling thread's timer and alternate stack. 0 or -1. */
int signal_timer_thread_start(struct thread_record *t);
void signal_timer_thread_stop(struct thread_record *t);

/* In signal_safe.c. */
void signal_timer_handler(int sig, siginfo_t *info, void *uctx);
/* Delivers a signal that is not ours to the program's own disposition. Signal context. */
void signal_forward(int sig, siginfo_t *info, void *uctx);

#endif
