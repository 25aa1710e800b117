/* thread_registry: see thread_registry.h. Also the engine's pthread_create (the front's
 * exported pthread_create forwards to it once the engine is active), which is how threads
 * other than the main one get registered before they run any OCaml code. */
#define _GNU_SOURCE
#include "thread_registry.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "doorbell.h"
#include "log.h"
#include "runtime.h"
#include "runtime_hooks.h"
#include "shim_state.h"
#include "stats.h"

struct thread_record thread_registry[THREAD_REGISTRY_MAX];
_Atomic int thread_registry_extent;
static __thread struct thread_record *self_record;

/* The record the monitor is looking at (the exit handshake); NULL when none. */
static _Atomic(struct thread_record *) pinned;

static _Atomic unsigned long unregistered;     /* threads without a record */
static _Atomic bool unregistered_said;

struct thread_record *thread_self(void) { return self_record; }

long thread_self_tp_offset(void)
{
    uintptr_t tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    return (long)((uintptr_t)&self_record - tp);
}

/* ---- threads without a record -------------------------------------------------------- */

unsigned long thread_registry_unregistered(void) { return atomic_load(&unregistered); }

void thread_registry_report_unregistered(void)
{
    unsigned long n = atomic_load(&unregistered);
    if (n == 0 || !shim_active() || atomic_exchange(&unregistered_said, true))
        return;
    log_warn("%lu thread%s so far will never be preempted: created before the shim was "
             "active, or beyond its %d thread records (said once; the stats count them all "
             "as threads_unregistered)", n, n == 1 ? "" : "s", THREAD_REGISTRY_MAX);
}

static void count_unregistered(void)
{
    atomic_fetch_add(&unregistered, 1);
    STAT_INC(stats_for_domain(0), threads_unregistered);
}

/* ---- registration -------------------------------------------------------------------- */

/* A record as a new thread finds it: nothing of its previous owner survives. */
static void reset_record(struct thread_record *r)
{
    r->tid = (pid_t)syscall(SYS_gettid);
    if (pthread_getcpuclockid(pthread_self(), &r->cpu_clock) != 0)
        r->cpu_clock = CLOCK_THREAD_CPUTIME_ID;
    r->caml_state_slot = runtime_caml_state_slot();
    atomic_store(&r->last_fiber, NULL);
    atomic_store(&r->switch_tsc, 0);
    atomic_store(&r->switches, 0);
    atomic_store(&r->want, 0);
    atomic_store(&r->request_tsc, 0);
    atomic_store(&r->request_switches, 0);
    atomic_store(&r->request_stack, NULL);
    atomic_store(&r->refusals, 0);
    atomic_store(&r->main_stack, NULL);
    atomic_store(&r->backed_off, 0);
    atomic_store(&r->look_soon, 0);
    atomic_store(&r->blocking_epoch, 0);
    atomic_store(&r->in_hook, 0);
    atomic_store(&r->runs_ocaml, 0);
    atomic_store(&r->clock_trip_tsc, 0);
    r->away_ticks = 0;
    r->away_since_tsc = 0;
    memset(&r->clock, 0, sizeof r->clock);
    r->ocaml_mutexes_held = 0;
    r->unhandled_fiber = 0;
    r->fiber_log = fiber_log_of_slot((int)(r - thread_registry));
    if (r->fiber_log) {
        atomic_store(&r->fiber_log->events_written, 0);
        atomic_store(&r->fiber_log->name_want_id, 0);
        atomic_store(&r->fiber_log->name_done_id, 0);
        r->fiber_log->named_id = 0;
    }
    atomic_fetch_add(&r->generation, 1);     /* the monitor's look state is now stale */
}

static void raise_extent(int slots)
{
    int extent = atomic_load(&thread_registry_extent);
    while (extent < slots &&
           !atomic_compare_exchange_weak(&thread_registry_extent, &extent, slots))
        ;
}

static _Atomic unsigned long reclaimed_unread;

/* The other side of the pin handshake: r's state was just changed; wait until the monitor
 * is not looking at r (a look takes microseconds). */
static void wait_unpinned(struct thread_record *r)
{
    while (atomic_load(&pinned) == r)
        sched_yield();
}

/* A FREE record, else (the registry full of them) an EXITED one the monitor has not read
 * yet, once it is not reading it (the pin handshake, as for LEAVING); NULL: none. */
static struct thread_record *claim_record(void)
{
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < THREAD_REGISTRY_MAX; i++) {
            struct thread_record *r = &thread_registry[i];
            int expected = pass == 0 ? RECORD_FREE : RECORD_EXITED;
            if (!atomic_compare_exchange_strong(&r->state, &expected, RECORD_CLAIMED))
                continue;
            if (pass == 1) {
                wait_unpinned(r);
                atomic_fetch_add(&reclaimed_unread, 1);
            }
            return r;
        }
    return NULL;
}

unsigned long thread_registry_reclaimed_unread(void) { return atomic_load(&reclaimed_unread); }

struct thread_record *thread_register_self(bool runs_ocaml)
{
    if (self_record) {
        if (runs_ocaml)
            thread_note_runs_ocaml(self_record);
        return self_record;
    }
    struct thread_record *r = claim_record();
    if (r) {
        int i = (int)(r - thread_registry);
        reset_record(r);
        atomic_store(&r->runs_ocaml, runs_ocaml);
        self_record = r;
        raise_extent(i + 1);
        atomic_store(&r->state, RECORD_LIVE);        /* now the monitor may look */
        doorbell_ring_within_quantum();           /* the monitor looks within a quantum */
        return r;
    }
    count_unregistered();
    thread_registry_report_unregistered();
    return NULL;
}

void thread_note_runs_ocaml(struct thread_record *t)
{
    if (!t || atomic_load_explicit(&t->runs_ocaml, memory_order_relaxed))
        return;
    atomic_store(&t->runs_ocaml, 1);
    doorbell_ring_within_quantum();        /* the monitor has ignored it until now */
}

void thread_unregister_self(void)
{
    struct thread_record *r = self_record;
    if (!r)
        return;
    atomic_store(&r->state, RECORD_LEAVING);
    wait_unpinned(r);
    self_record = NULL;
    r->caml_state_slot = NULL;
    /* A thread ended by the runtime while inside the hook (since PR #12964 caml_shutdown
       stops the other domains: a domain thread serving that stop-the-world from inside
       the hook's own one, caml_register_frametable, calls pthread_exit there) comes here
       through its cleanup handler: it is no longer in the hook, and its mark would make
       the shutdown gate (shutdown.c) wait out its whole bound. */
    atomic_store(&r->in_hook, 0);
    atomic_store(&r->state, r->fiber_log ? RECORD_EXITED : RECORD_FREE);
}

/* The pin handshake (header comment): announce r, then check its state. */
static bool pin_in_state(struct thread_record *r, int state)
{
    atomic_store(&pinned, r);
    if (atomic_load(&r->state) == state)
        return true;
    atomic_store(&pinned, NULL);
    return false;
}

bool thread_record_pin(struct thread_record *r)
{
    return pin_in_state(r, RECORD_LIVE);
}

void thread_record_unpin(void) { atomic_store(&pinned, NULL); }

bool thread_record_pin_exited(struct thread_record *r)
{
    return pin_in_state(r, RECORD_EXITED);
}

void thread_record_release_exited(struct thread_record *r)
{
    int exited = RECORD_EXITED;
    atomic_compare_exchange_strong(&r->state, &exited, RECORD_FREE);
    atomic_store(&pinned, NULL);
}

/* In a child of fork() only the calling thread exists: forget the others, whose TLS
 * slots now describe nothing, and whatever the parent's monitor was doing. */
void thread_registry_after_fork(void)
{
    atomic_store(&pinned, NULL);
    for (int i = 0; i < THREAD_REGISTRY_MAX; i++) {
        struct thread_record *r = &thread_registry[i];
        if (r != self_record && atomic_load(&r->state) != RECORD_FREE) {
            r->caml_state_slot = NULL;
            atomic_store(&r->state, RECORD_FREE);
        }
        /* A thread that was inside the interrupt hook when another forked does not exist
           here: its mark would make every exit of the child wait out shutdown.c's bound. */
        if (r != self_record)
            atomic_store(&r->in_hook, 0);
    }
    struct thread_record *self = self_record;
    if (self) {
        pthread_getcpuclockid(pthread_self(), &self->cpu_clock);
        self->tid = (pid_t)syscall(SYS_gettid);
        atomic_store(&self->want, 0);
        atomic_fetch_add(&self->generation, 1);   /* a new monitor starts clean */
    }
}

/* ---- the pthread_create wrapper's logic ---------------------------------------------- */

struct start_trampoline {
    void *(*start)(void *);
    void *arg;
    bool runs_ocaml;             /* start is one of the runtime's OCaml thread entries */
};

static void unregister_at_exit(void *unused) { thread_unregister_self(); }

static void *registered_start(void *p)
{
    struct start_trampoline t = *(struct start_trampoline *)p;
    free(p);
    if (shim_active())
        thread_register_self(t.runs_ocaml);
    else
        count_unregistered();
    void *ret;
    pthread_cleanup_push(unregister_at_exit, NULL);
    ret = t.start(t.arg);
    pthread_cleanup_pop(1);
    return ret;
}

/* libc's, as the front found it (front_api.h). */
static pthread_create_fn real_pthread_create(void) { return engine_libc.pthread_create; }

static int create_registered(pthread_create_fn real, pthread_t *thread,
                             const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
    if (!shim_active()) {
        count_unregistered();
        return real(thread, attr, start, arg);
    }
    /* Thread and Domain initialisation replace the runtime hooks before they create
       threads: re-chain them here (the monitor also checks, at its next pass). */
    runtime_hooks_rechain();
    struct start_trampoline *t = malloc(sizeof *t);
    if (!t) {
        count_unregistered();
        thread_registry_report_unregistered();
        return real(thread, attr, start, arg);
    }
    t->start = start;
    t->arg = arg;
    t->runs_ocaml = runtime_is_ocaml_thread_entry(start);
    int rc = real(thread, attr, registered_start, t);
    if (rc != 0)
        free(t);
    return rc;
}

/* For the shim's own threads, which must not be registered. */
int ocpreempt_real_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                  void *(*start)(void *), void *arg)
{
    pthread_create_fn real = real_pthread_create();
    return real ? real(thread, attr, start, arg) : EAGAIN;
}

int thread_registry_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                   void *(*start)(void *), void *arg)
{
    pthread_create_fn real = real_pthread_create();
    if (!real)
        return EAGAIN;
    return create_registered(real, thread, attr, start, arg);
}
