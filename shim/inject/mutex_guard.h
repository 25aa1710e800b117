/* mutex_guard: the engine's pthread_mutex_lock/trylock/unlock (see mutex_guard.c), to
 * which the front's exported functions forward with their return address `caller`. Each
 * calls libc's and keeps the count of OCaml Mutex.t the calling thread holds. */
#ifndef OCPREEMPT_MUTEX_GUARD_H
#define OCPREEMPT_MUTEX_GUARD_H

#include <pthread.h>
#include <stdint.h>

int mutex_guard_lock(pthread_mutex_t *m, uintptr_t caller);
int mutex_guard_trylock(pthread_mutex_t *m, uintptr_t caller);
int mutex_guard_unlock(pthread_mutex_t *m, uintptr_t caller);

#endif
