/* chaos: see chaos.h. The clock, the seeded schedule and the replay list.
 *
 * Per domain (indexed by its id, owned by whichever thread holds that domain's lock, i.e.
 * touched only from the interrupt hook):
 *  - `clock`: bytes allocated on the minor heap, read from young_ptr at every trip. A minor
 *    collection moves young_ptr back up; the bytes up to young_start are then counted as
 *    allocated (the failing allocation's tail is not, which is exact enough: what matters
 *    is that the same program allocating the same way reads the same clock).
 *  - the schedule: firing i happens when the clock passes next_fire, with gaps drawn
 *    uniformly in [1, 2 * mean - 1] (mean = 1 MiB / OCPREEMPT_CHAOS_RATE) from a
 *    splitmix64 stream seeded by the seed and the domain id. A firing lets 0..7 further
 *    trips pass (so preemptions also land at the poll points that follow allocations),
 *    then asks the where-rules at each trip, up to PENDING_BUDGET trips, until one allows
 *    a preemption; a refusal for the whole fiber (main fiber, unhandled yield) ends the
 *    wait at once.
 *  - young_limit placement: between firings the limit is raised to young_ptr - remaining
 *    (never lowered below the runtime's own trigger, and only with a compare-and-swap from
 *    the value read, so an interrupt another thread posts meanwhile (-1) is never lost);
 *    while a firing waits for a safe point the limit is -1, one trip per safe point.
 *  - requested_external_interrupt stays SHIM_INTERRUPT (2) so that the runtime calls the
 *    hook at every trip; systhreads' hook only consumes the value 1 its tick thread writes,
 *    so chaos does not make threads switch. It is put back only over 0: a tick posted
 *    between systhreads' hook and ours stays for the next trip (runtime.h).
 * Preemptions allowed by the where-rules are numbered 1, 2, ... in the process (an atomic
 * counter; in order on one domain); the replay list performs only the listed numbers.
 */
#include "chaos.h"

#include <stdatomic.h>
#include <stdint.h>

#include "log.h"
#include "runtime.h"

#define CHAOS_MAX_DOMAINS 128
#define SPREAD_TRIPS 8          /* a firing lets 0..SPREAD_TRIPS-1 trips pass first */
#define PENDING_BUDGET 64       /* trips a firing waits for an allowed safe point */
#define BYTES_PER_MIB (1u << 20)

enum phase { WAIT_CLOCK, SPREAD, PENDING };

struct chaos_domain {
    bool ready;
    enum phase phase;
    uint64_t rng;
    uint64_t clock;              /* bytes allocated, as read at trips */
    uintptr_t last_ptr;          /* young_ptr at the previous trip */
    uint64_t next_fire;          /* clock value of the next firing */
    uint32_t skip;               /* SPREAD: trips still to let pass */
    uint32_t budget;             /* PENDING: trips left */
    _Atomic uint64_t fired, preempted, gave_up, left_out;   /* read at exit */
};

static struct chaos_domain domains[CHAOS_MAX_DOMAINS];
static _Atomic uint32_t preemption_number;
static _Atomic int threads_seen;
static __thread bool thread_seen;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t draw_gap(struct chaos_domain *cd)
{
    uint64_t mean = BYTES_PER_MIB / shim_config.chaos_rate;
    return 1 + splitmix64(&cd->rng) % (2 * mean - 1);
}

static void count(_Atomic uint64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

static struct chaos_domain *domain_of(void *ds)
{
    int id = *(int *)DS(ds, id);
    if (id < 0 || id >= CHAOS_MAX_DOMAINS)
        return NULL;
    struct chaos_domain *cd = &domains[id];
    if (!cd->ready) {
        cd->rng = shim_config.chaos_seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(id + 1));
        cd->last_ptr = *DS(ds, young_ptr);
        cd->clock = 0;
        cd->phase = WAIT_CLOCK;
        cd->next_fire = draw_gap(cd);
        cd->ready = true;
    }
    return cd;
}

/* Adds the bytes allocated since the previous trip. */
static void read_clock(struct chaos_domain *cd, void *ds)
{
    cd->clock += runtime_minor_bytes_since(ds, cd->last_ptr);
    cd->last_ptr = *DS(ds, young_ptr);
}

/* Next trip at the next safe point. */
static void arm_now(void *ds)
{
    atomic_store_explicit(DS_ATOMIC(ds, young_limit), UINTPTR_MAX, memory_order_release);
}

/* Next trip once `remaining` more bytes are allocated (or earlier, at the runtime's own
 * trigger): runtime.h. */
static void arm_after(void *ds, uint64_t remaining)
{
    runtime_young_limit_arm_after(ds, remaining);
}

static void wait_for_next_firing(struct chaos_domain *cd, void *ds)
{
    cd->phase = WAIT_CLOCK;
    cd->next_fire = cd->clock + draw_gap(cd);
    arm_after(ds, cd->next_fire - cd->clock);
}

void chaos_arm_self(void)
{
    if (!chaos_enabled() || !shim_active())
        return;
    struct thread_record *t = thread_self();
    void *ds = t && t->caml_state_slot ? *(void *volatile *)t->caml_state_slot : NULL;
    if (!ds)
        return;
    _Atomic uintptr_t *request = runtime_interrupt_flag(ds);
    uintptr_t idle = 0;
    if (atomic_load_explicit(request, memory_order_relaxed) != 0)
        return;
    if (atomic_compare_exchange_strong(request, &idle, SHIM_INTERRUPT))
        arm_now(ds);
}

bool chaos_trip(void *ds)
{
    runtime_interrupt_post(ds);        /* not over a tick posted meanwhile: runtime.h */
    struct chaos_domain *cd = domain_of(ds);
    if (!cd)
        return false;
    if (!thread_seen) {
        thread_seen = true;
        atomic_fetch_add(&threads_seen, 1);
    }
    read_clock(cd, ds);
    switch (cd->phase) {
    case WAIT_CLOCK:
        if (cd->clock < cd->next_fire) {
            arm_after(ds, cd->next_fire - cd->clock);
            return false;
        }
        count(&cd->fired);
        cd->phase = SPREAD;
        cd->skip = (uint32_t)(splitmix64(&cd->rng) % SPREAD_TRIPS);
        /* fall through */
    case SPREAD:
        if (cd->skip > 0) {
            cd->skip--;
            arm_now(ds);
            return false;
        }
        cd->phase = PENDING;
        cd->budget = PENDING_BUDGET;
        return true;
    case PENDING:
        return true;
    }
    return false;
}

/* Is preemption `n` in the replay list (all are when there is none)? */
static bool listed(uint32_t n)
{
    size_t lo = 0, hi = shim_config.chaos_range_count;
    if (!shim_config.chaos_listed)
        return true;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct config_range *r = &shim_config.chaos_ranges[mid];
        if (n < r->first)
            hi = mid;
        else if (n > r->last)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

bool chaos_settle(void *ds, bool allowed, bool fiber_refused)
{
    struct chaos_domain *cd = domain_of(ds);
    if (!cd)
        return false;
    if (allowed) {
        uint32_t n = atomic_fetch_add(&preemption_number, 1) + 1;
        bool perform = listed(n);
        count(perform ? &cd->preempted : &cd->left_out);
        wait_for_next_firing(cd, ds);
        return perform;
    }
    if (fiber_refused || --cd->budget == 0) {
        count(&cd->gave_up);
        wait_for_next_firing(cd, ds);
        return false;
    }
    arm_now(ds);
    return false;
}

void chaos_report(void)
{
    if (!chaos_enabled())
        return;
    uint64_t fired = 0, preempted = 0, gave_up = 0, left_out = 0;
    for (int i = 0; i < CHAOS_MAX_DOMAINS; i++) {
        fired += atomic_load(&domains[i].fired);
        preempted += atomic_load(&domains[i].preempted);
        gave_up += atomic_load(&domains[i].gave_up);
        left_out += atomic_load(&domains[i].left_out);
    }
    int threads = atomic_load(&threads_seen);
    if (shim_config.stats || log_get_level() >= LOG_INFO)
        log_warn("chaos: seed %llu, rate %u/MiB: %llu preemptions (%llu firings, %llu found "
                 "no allowed safe point, %llu left out by the replay list), %d thread%s",
                 (unsigned long long)shim_config.chaos_seed, shim_config.chaos_rate,
                 (unsigned long long)preempted, (unsigned long long)fired,
                 (unsigned long long)gave_up, (unsigned long long)left_out, threads,
                 threads == 1 ? "" : "s");
    if (threads > 1)
        log_warn("chaos: %d threads ran OCaml code (domains or systhreads): replay is not "
                 "guaranteed, the same seed may preempt elsewhere", threads);
}
