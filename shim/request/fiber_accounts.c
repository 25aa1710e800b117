/* fiber_accounts: see fiber_accounts.h.
 *
 * Reading a log (fiber_log.h): the writer stores an entry, then the count; the reader
 * reads the count (acquire), copies the entries it has not seen, then re-reads the count:
 * an entry whose slot the writer may have reached again meanwhile is dropped (counted as
 * lost), and the run it would have closed is not accounted. The consumer's position per
 * record is kept with the record's generation, so a reused record starts clean.
 */
#define _GNU_SOURCE
#include "fiber_accounts.h"

#include <string.h>
#include <sys/mman.h>

#include "fiber_log.h"
#include "runtime.h"
#include "shim_state.h"

struct fiber_account {
    uint64_t id;
    uintptr_t stack;               /* where its stack was last seen */
    uintptr_t name;
    uint32_t group;
    uint8_t name_tries;            /* name requests answered with no name */
    struct fiber_tally tally;
};

/* What the consumer knows of one record's log. */
struct reader {
    uint32_t generation;
    bool started;
    uint64_t switches_seen, events_seen;
    int32_t current;               /* account of the run in progress, -1 none */
    uint64_t current_tsc;
    int32_t tid, domain;
    uint64_t asked_id;             /* the name request outstanding (0 none) */
};

#define INDEX_SLOTS (2 * FIBER_ACCOUNTS_MAX)      /* open addressing, power of two */
#define NAME_TRIES 3

static struct fiber_account accounts[FIBER_ACCOUNTS_MAX];
static size_t account_count;
static uint32_t index_of_id[INDEX_SLOTS];         /* 1 + account index; 0 empty */
static struct fiber_group groups[FIBER_GROUPS_MAX];
static size_t group_count = 2;
static struct reader readers[THREAD_REGISTRY_MAX];
static unsigned long runs_lost, events_lost, fibers_untracked;
static bool finished;

static struct fiber_trace_record *trace;
static size_t trace_capacity, trace_count;
static unsigned long trace_dropped;

int fiber_accounts_prepare(size_t trace_records)
{
    if (trace_records == 0)
        return 0;
    void *p = mmap(NULL, trace_records * sizeof *trace, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    trace = p;
    trace_capacity = trace_records;
    return 0;
}

static struct fiber_trace_record *trace_append(enum fiber_trace_type type, int32_t tid)
{
    if (!trace)
        return NULL;
    if (trace_count == trace_capacity) {
        trace_dropped++;
        return NULL;
    }
    struct fiber_trace_record *r = &trace[trace_count++];
    memset(r, 0, sizeof *r);
    r->type = type;
    r->tid = tid;
    r->domain = -1;
    return r;
}

/* ---- accounts and groups ---------------------------------------------------------------- */

static size_t hash_id(uint64_t id)
{
    return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 40) & (INDEX_SLOTS - 1);
}

/* The account of fiber id, or -1 (unknown, and `add` false or the table full). */
static int32_t account_of(uint64_t id, bool add)
{
    for (size_t h = hash_id(id), n = 0; n < INDEX_SLOTS; h = (h + 1) & (INDEX_SLOTS - 1), n++) {
        uint32_t k = index_of_id[h];
        if (k == 0) {
            if (!add)
                return -1;
            if (account_count == FIBER_ACCOUNTS_MAX) {
                fibers_untracked++;
                return -1;
            }
            struct fiber_account *a = &accounts[account_count];
            a->id = id;
            a->group = FIBER_GROUP_UNNAMED;
            groups[FIBER_GROUP_UNNAMED].fibers++;
            index_of_id[h] = (uint32_t)++account_count;
            return (int32_t)(account_count - 1);
        }
        if (accounts[k - 1].id == id)
            return (int32_t)(k - 1);
    }
    return -1;
}

static void tally_add(struct fiber_tally *to, const struct fiber_tally *from)
{
    to->runs += from->runs;
    to->preemptions += from->preemptions;
    to->refusals += from->refusals;
    to->total_ticks += from->total_ticks;
    if (from->longest_ticks > to->longest_ticks)
        to->longest_ticks = from->longest_ticks;
    for (int i = 0; i < FIBER_REFUSAL_KINDS; i++)
        to->refused[i] += from->refused[i];
}

static void tally_sub(struct fiber_tally *to, const struct fiber_tally *from)
{
    to->runs -= from->runs;
    to->preemptions -= from->preemptions;
    to->refusals -= from->refusals;
    to->total_ticks -= from->total_ticks;
    for (int i = 0; i < FIBER_REFUSAL_KINDS; i++)
        to->refused[i] -= from->refused[i];
}

static uint32_t group_of_name(uintptr_t name)
{
    for (size_t g = 2; g < group_count; g++)
        if (groups[g].name == name)
            return (uint32_t)g;
    if (group_count == FIBER_GROUPS_MAX)
        return FIBER_GROUP_UNNAMED;
    groups[group_count].name = name;
    return (uint32_t)group_count++;
}

/* Fiber a is named: it moves, with everything counted so far, to its name's group. */
static void set_name(struct fiber_account *a, uintptr_t name)
{
    if (a->name || !name)
        return;
    uint32_t g = group_of_name(name);
    if (g == FIBER_GROUP_UNNAMED)
        return;
    a->name = name;
    tally_sub(&groups[a->group].tally, &a->tally);
    groups[a->group].fibers--;
    a->group = g;
    tally_add(&groups[g].tally, &a->tally);
    groups[g].fibers++;
}

/* What one run or verdict of `account` (-1: untracked) counts in: the fiber's own tally
 * and its group's. An untracked fiber has only the "untracked" group's. */
static void count_in_both(int32_t account, const struct fiber_tally *delta)
{
    if (account < 0) {
        tally_add(&groups[FIBER_GROUP_UNTRACKED].tally, delta);
        return;
    }
    tally_add(&accounts[account].tally, delta);
    tally_add(&groups[accounts[account].group].tally, delta);
}

static void count_run(int32_t account, uint64_t ticks)
{
    struct fiber_tally run = { .runs = 1, .total_ticks = ticks, .longest_ticks = ticks };
    count_in_both(account, &run);
}

static void count_verdict(int32_t account, uint32_t verdict)
{
    struct fiber_tally v = { 0 };
    int kind = (int)verdict - 1 - FIBER_REFUSAL_FIRST;
    if (verdict == FIBER_EVENT_PREEMPTED) {
        v.preemptions = 1;
    } else {
        v.refusals = 1;
        if (kind >= 0 && kind < FIBER_REFUSAL_KINDS)
            v.refused[kind] = 1;
    }
    count_in_both(account, &v);
}

/* ---- consuming a log ----------------------------------------------------------------------- */

static void end_run(struct reader *r, uint64_t end_tsc)
{
    if (r->current == -2 || !r->started)
        return;
    if (end_tsc > r->current_tsc) {
        count_run(r->current, end_tsc - r->current_tsc);
        struct fiber_trace_record *rec = trace_append(FT_SLICE, r->tid);
        if (rec) {
            rec->t0 = r->current_tsc;
            rec->t1 = end_tsc;
            rec->fiber = r->current >= 0 ? accounts[r->current].id : 0;
        }
    }
}

static void consume_switches(struct reader *r, const struct thread_record *t,
                             const struct fiber_log *log)
{
    uint64_t written = atomic_load_explicit(&t->switches, memory_order_acquire);
    uint64_t from = r->switches_seen;
    if (written < from)            /* the record was reused meanwhile: a new log */
        return;
    if (written - from > FIBER_SWITCH_LOG) {          /* overrun: the oldest are gone */
        runs_lost += written - from - FIBER_SWITCH_LOG;
        from = written - FIBER_SWITCH_LOG;
        r->current = -2;                              /* the run in progress is unknown */
    }
    for (uint64_t i = from; i < written; i++) {
        struct fiber_switch e = log->switches[i & (FIBER_SWITCH_LOG - 1)];
        uint64_t now = atomic_load_explicit(&t->switches, memory_order_acquire);
        if (now - i > FIBER_SWITCH_LOG) {             /* overwritten while we copied it */
            runs_lost++;
            r->current = -2;
            continue;
        }
        end_run(r, e.tsc);
        r->started = true;
        r->current = account_of(e.id, true);
        r->current_tsc = e.tsc;
        if (r->current >= 0)
            accounts[r->current].stack = e.stack;
    }
    r->switches_seen = written;
}

static void consume_events(struct reader *r, const struct fiber_log *log)
{
    uint64_t written = atomic_load_explicit(&log->events_written, memory_order_acquire);
    uint64_t from = r->events_seen;
    if (written < from)
        return;
    if (written - from > FIBER_EVENT_LOG) {
        events_lost += written - from - FIBER_EVENT_LOG;
        from = written - FIBER_EVENT_LOG;
    }
    for (uint64_t i = from; i < written; i++) {
        struct fiber_event e = log->events[i & (FIBER_EVENT_LOG - 1)];
        uint64_t now = atomic_load_explicit(&log->events_written, memory_order_acquire);
        if (now - i > FIBER_EVENT_LOG) {
            events_lost++;
            continue;
        }
        int32_t a = account_of(e.id, true);
        if (a >= 0)
            set_name(&accounts[a], e.name);
        count_verdict(a, e.verdict);
        struct fiber_trace_record *rec = trace_append(FT_INSTANT, r->tid);
        if (rec) {
            rec->t0 = e.tsc;
            rec->site = e.site;
            rec->name = e.name;
            rec->fiber = e.id;
            rec->verdict = e.verdict;
            rec->kind = e.kind;
        }
    }
    r->events_seen = written;
}

/* The hook's answer to the last request, then the next request: the most recently seen
 * fiber of this thread without a name. */
static void ask_for_a_name(struct reader *r, struct thread_record *t, struct fiber_log *log)
{
    if (r->asked_id) {
        if (atomic_load_explicit(&log->name_done_id, memory_order_acquire) != r->asked_id)
            return;                                   /* not answered yet */
        int32_t a = account_of(r->asked_id, false);
        uintptr_t name = atomic_load_explicit(&log->name_done_name, memory_order_relaxed);
        if (a >= 0) {
            if (name)
                set_name(&accounts[a], name);
            else
                accounts[a].name_tries++;
        }
        r->asked_id = 0;
    }
    if (shim_config.chaos)            /* chaos mode's hook serves its own clock only */
        return;
    uint64_t seen = r->switches_seen;
    for (uint64_t back = 0; back < FIBER_SWITCH_LOG && back < seen; back++) {
        const struct fiber_switch *e = &log->switches[(seen - 1 - back) & (FIBER_SWITCH_LOG - 1)];
        int32_t a = account_of(e->id, false);
        if (a < 0 || accounts[a].name || accounts[a].name_tries >= NAME_TRIES)
            continue;
        void *ds = t->caml_state_slot ? *(void *volatile *)t->caml_state_slot : NULL;
        if (!ds)
            return;
        atomic_store_explicit(&log->name_want_stack, accounts[a].stack, memory_order_relaxed);
        atomic_store_explicit(&log->name_want_id, accounts[a].id, memory_order_release);
        r->asked_id = accounts[a].id;
        runtime_interrupt_post(ds);                   /* as a request: never over a tick */
        atomic_store_explicit(DS_ATOMIC(ds, young_limit), UINTPTR_MAX, memory_order_release);
        return;
    }
}

static struct reader *reader_of(const struct thread_record *t, int slot)
{
    struct reader *r = &readers[slot];
    uint32_t generation = atomic_load(&t->generation);
    if (r->generation != generation || r->tid != t->tid) {
        memset(r, 0, sizeof *r);
        r->generation = generation;
        r->tid = t->tid;
        r->domain = -1;
        r->current = -2;
    }
    return r;
}

static void note_thread(struct reader *r, struct thread_record *t, bool pinned)
{
    void *ds = pinned && t->caml_state_slot ? *(void *volatile *)t->caml_state_slot : NULL;
    int32_t domain = ds ? *(volatile int *)DS(ds, id) : r->domain;
    if (domain == r->domain && r->started)
        return;
    struct fiber_trace_record *rec = trace_append(FT_THREAD, r->tid);
    if (rec)
        rec->domain = domain;
    r->domain = domain;
}

/* Runs about to be read from a log whose thread no live drain named (it exited, or the
 * process ends, before its first switch was drained): their track's name first. */
static void note_unpinned_thread(struct reader *r, struct thread_record *t)
{
    if (atomic_load_explicit(&t->switches, memory_order_acquire) != r->switches_seen)
        note_thread(r, t, false);
}

void fiber_accounts_drain_exited(struct thread_record *t, int slot)
{
    struct fiber_log *log = t->fiber_log;
    if (!log || finished || slot < 0 || slot >= THREAD_REGISTRY_MAX)
        return;
    struct reader *r = reader_of(t, slot);   /* EXITED and pinned: not reused meanwhile,
                                                and read even if never seen live */
    note_unpinned_thread(r, t);
    consume_switches(r, t, log);
    consume_events(r, log);
}

void fiber_accounts_drain(struct thread_record *t, int slot)
{
    struct fiber_log *log = t->fiber_log;
    if (!log || finished || slot < 0 || slot >= THREAD_REGISTRY_MAX)
        return;
    struct reader *r = reader_of(t, slot);
    if (atomic_load_explicit(&t->switches, memory_order_relaxed) == r->switches_seen &&
        atomic_load_explicit(&log->events_written, memory_order_relaxed) == r->events_seen &&
        !r->asked_id)
        return;
    note_thread(r, t, true);
    consume_switches(r, t, log);
    consume_events(r, log);
    ask_for_a_name(r, t, log);
}

void fiber_accounts_after_fork(void)
{
    if (!fiber_log_enabled)
        return;                        /* nothing was ever accounted */
    memset(accounts, 0, account_count * sizeof accounts[0]);   /* only what was used */
    account_count = 0;
    memset(index_of_id, 0, sizeof index_of_id);
    memset(groups, 0, group_count * sizeof groups[0]);
    group_count = 2;
    memset(readers, 0, sizeof readers);
    runs_lost = events_lost = fibers_untracked = 0;
    trace_count = 0;
    trace_dropped = 0;
    int extent = atomic_load(&thread_registry_extent);
    for (int i = 0; i < extent && i < THREAD_REGISTRY_MAX; i++) {
        struct thread_record *t = &thread_registry[i];
        if (atomic_load(&t->state) != RECORD_LIVE || !t->fiber_log)
            continue;                  /* only the forking thread's record is still live */
        struct reader *r = reader_of(t, i);
        r->switches_seen = atomic_load(&t->switches);
        r->events_seen = atomic_load(&t->fiber_log->events_written);
    }
}

void fiber_accounts_note_wake(unsigned long wakes)
{
    struct fiber_trace_record *rec = trace ? trace_append(FT_COUNTER, 0) : NULL;
    if (rec) {
        rec->t0 = stats_tsc();
        rec->name = wakes;
    }
}

void fiber_accounts_finish(void)
{
    if (finished || !fiber_log_enabled)
        return;
    uint64_t end = stats_tsc();
    int extent = atomic_load(&thread_registry_extent);
    for (int i = 0; i < extent; i++) {
        struct thread_record *t = &thread_registry[i];
        if (!t->fiber_log)
            continue;
        struct reader *r = reader_of(t, i);       /* an exited thread's log stays readable */
        note_unpinned_thread(r, t);
        consume_switches(r, t, t->fiber_log);
        consume_events(r, t->fiber_log);
        end_run(r, end);
        r->current = -2;
    }
    finished = true;
}

const struct fiber_group *fiber_accounts_groups(size_t *count)
{
    uint64_t longest = 0;
    for (size_t i = 0; i < account_count; i++)
        if (accounts[i].group == FIBER_GROUP_UNNAMED && accounts[i].tally.longest_ticks > longest)
            longest = accounts[i].tally.longest_ticks;
    groups[FIBER_GROUP_UNNAMED].tally.longest_ticks = longest;
    groups[FIBER_GROUP_UNTRACKED].fibers = fibers_untracked;
    *count = group_count;
    return groups;
}

uintptr_t fiber_accounts_name_of(uint64_t id)
{
    int32_t a = account_of(id, false);
    return a >= 0 ? accounts[a].name : 0;
}

void fiber_accounts_losses(struct fiber_accounts_losses *out)
{
    out->runs_lost = runs_lost;
    out->events_lost = events_lost;
    out->fibers_untracked = fibers_untracked;
    out->threads_unread = thread_registry_reclaimed_unread();
}

const struct fiber_trace_record *fiber_trace_records(size_t *count, unsigned long *dropped)
{
    *count = trace_count;
    *dropped = trace_dropped;
    return trace;
}
