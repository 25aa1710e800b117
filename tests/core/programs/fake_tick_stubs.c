/* fake_tick_stubs: a stand-in for systhreads' tick thread and hook, to check deterministically
 * that the shim's requests neither look like a tick nor erase one.
 *
 * core_fake_tick_install puts fake_tick_hook into caml_domain_external_interrupt_hook the
 * way systhreads' initialisation puts its own there (replacing, not chaining): the shim
 * chains its hook in front of it again, so fake_tick_hook runs first at every call of the
 * chain, where systhreads' hook would. At each call:
 *  - a tick it posted is pending: the flag must still read TICK (1): kept, and consumed
 *    (1 -> 0, as systhreads' hook does); anything else: erased;
 *  - otherwise a 1 it did not post is a phantom tick (systhreads would take whatever
 *    wrote it for its tick and hand the runtime lock over): counted, consumed; then it
 *    posts a tick (1, and an interrupt of the domain, as systhreads' tick thread does),
 *    landing after "systhreads' hook" and before the shim's: where a store of the shim
 *    would erase it.
 * A kept tick makes the next poll or allocation call the chain again, where it is seen.
 * An erased one (flag 0) is never seen again: core_fake_tick_age, called at each
 * iteration of the program's allocating loops, counts the iterations a tick stays
 * pending and declares it erased after AGE_LIMIT (a kept one is consumed at the first).
 *
 * Knobs for the twins that show the counts bite (without the shim; the program then
 * kicks the chain itself with core_fake_tick_kick, writing FAKE_TICK_KICK_VALUE, 2 by
 * default, as the shim's requests do): FAKE_TICK_ERASE=1 erases each tick right after
 * posting it; FAKE_TICK_KICK_VALUE=1 kicks with the tick's own value (phantoms).
 * One domain, one thread: plain statics. */
#define CAML_INTERNALS           /* caml_domain_external_interrupt_hook, caml_interrupt_self */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <caml/alloc.h>
#include <caml/domain.h>
#include <caml/domain_state.h>
#include <caml/memory.h>
#include <caml/mlvalues.h>

#define TICK 1
#define AGE_LIMIT 64

static long posted, kept, erased, phantoms, calls;
static int pending, age, erase_own;
static uintnat kick_value = 2;

static void fake_tick_hook(void)
{
    atomic_uintnat *flag = &Caml_state->requested_external_interrupt;
    calls++;
    if (pending) {
        uintnat expected = TICK;
        if (atomic_compare_exchange_strong(flag, &expected, 0))
            kept++;
        else
            erased++;
        pending = 0;
        return;
    }
    uintnat expected = TICK;
    if (atomic_compare_exchange_strong(flag, &expected, 0))
        phantoms++;
    atomic_store(flag, TICK);
    caml_interrupt_self();
    pending = 1;
    age = 0;
    posted++;
    if (erase_own)
        atomic_store(flag, 0);
}

value core_fake_tick_install(value unit)
{
    (void)unit;
    const char *e = getenv("FAKE_TICK_ERASE");
    erase_own = e && strcmp(e, "1") == 0;
    const char *k = getenv("FAKE_TICK_KICK_VALUE");
    if (k && *k)
        kick_value = (uintnat)atol(k);
    caml_domain_external_interrupt_hook = fake_tick_hook;
    return Val_unit;
}

/* One iteration of an allocating loop: how long has the pending tick waited? */
value core_fake_tick_age(value unit)
{
    (void)unit;
    if (pending && ++age > AGE_LIMIT) {
        erased++;
        pending = 0;
    }
    return Val_unit;
}

/* What a request does to the flag (for runs without the shim). */
value core_fake_tick_kick(value unit)
{
    (void)unit;
    atomic_store(&Caml_state->requested_external_interrupt, kick_value);
    caml_interrupt_self();
    return Val_unit;
}

value core_fake_tick_counts(value unit)
{
    CAMLparam1(unit);
    CAMLlocal1(r);
    r = caml_alloc_tuple(5);
    Store_field(r, 0, Val_long(posted));
    Store_field(r, 1, Val_long(kept));
    Store_field(r, 2, Val_long(erased));
    Store_field(r, 3, Val_long(phantoms));
    Store_field(r, 4, Val_long(calls));
    CAMLreturn(r);
}
