/* doorbell: see doorbell.h. */
#define _GNU_SOURCE
#include "doorbell.h"

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "shim_state.h"

static _Atomic uint32_t wake_word;            /* 1: a wake is pending */
static _Atomic uint64_t sleeping_until_ns;    /* 0 while the monitor is awake */

void doorbell_wait_until(uint64_t at_ns)
{
    struct timespec ts = { (time_t)(at_ns / 1000000000u), (long)(at_ns % 1000000000u) };
    atomic_store(&sleeping_until_ns, at_ns);
    if (!atomic_exchange(&wake_word, 0))
        syscall(SYS_futex, &wake_word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, NULL,
                FUTEX_BITSET_MATCH_ANY);
    atomic_store(&sleeping_until_ns, 0);
    atomic_store(&wake_word, 0);
}

void doorbell_ring_unless_awake_by(uint64_t by_ns)
{
    uint64_t until = atomic_load(&sleeping_until_ns);
    if (until != 0 && until <= by_ns)
        return;
    if (!atomic_exchange(&wake_word, 1) && until != 0)
        syscall(SYS_futex, &wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void doorbell_ring_within_quantum(void)
{
    if (shim_active())
        doorbell_ring_unless_awake_by(monotonic_ns() + shim_config.quantum_ns);
}

void doorbell_after_fork(void)
{
    atomic_store(&wake_word, 0);
    atomic_store(&sleeping_until_ns, 0);
}
