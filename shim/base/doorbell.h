/* doorbell: how any thread wakes the monitor thread (request/monitor.c) before its deadline.
 *
 * The monitor sleeps on a futex until an absolute CLOCK_MONOTONIC deadline; a thread that
 * has news for it (a thread registered or was first seen running OCaml, a quiet thread left
 * a blocking section) rings. It lives at the bottom so that the thread registry can ring
 * without calling up into the request stage; it knows nothing of what the monitor does.
 *
 * Invariant: a ring is never lost. The monitor publishes its deadline, then consumes a
 * pending ring before it waits (the futex waits only while the word is 0); a ringer sets
 * the word, then wakes the futex if the monitor sleeps. A ring is skipped only when the
 * monitor will wake by the ringer's own deadline anyway.
 */
#ifndef OCPREEMPT_DOORBELL_H
#define OCPREEMPT_DOORBELL_H

#include <stdint.h>

/* The monitor: sleeps until at_ns (CLOCK_MONOTONIC) or a ring, whichever comes first. */
void doorbell_wait_until(uint64_t at_ns);

/* Any thread: wakes the monitor unless it will wake by `by_ns` anyway. */
void doorbell_ring_unless_awake_by(uint64_t by_ns);

/* Any thread, not signal context: when the shim is active, makes the monitor look within a
 * quantum from now (doorbell_ring_unless_awake_by(now + quantum)). */
void doorbell_ring_within_quantum(void);

/* In the child of fork(), before its monitor starts: no ring pending, nobody asleep. */
void doorbell_after_fork(void);

#endif
