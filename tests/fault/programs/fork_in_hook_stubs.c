/* fork_in_hook_stubs: a C thread that runs no OCaml forks children while the OCaml
 * domains are preempted; each child exits at once with exit(). Lets fork_in_hook.ml catch
 * a child whose exit waits for a thread that was inside the interrupt hook in the parent
 * at the fork (it does not exist in the child). */
#define _GNU_SOURCE
#include <caml/alloc.h>
#include <caml/mlvalues.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int forks_wanted;
static _Atomic int forks_done, forks_failed, finished;
static _Atomic long worst_child_ns;

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void *forker(void *unused)
{
    for (int i = 0; i < forks_wanted; i++) {
        usleep(1000);
        long t0 = now_ns();
        pid_t p = fork();
        if (p == 0)
            exit(0);                 /* atexit handlers, the shim's among them */
        int status = 0;
        if (p < 0 || waitpid(p, &status, 0) != p || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            atomic_fetch_add(&forks_failed, 1);
            continue;
        }
        long d = now_ns() - t0;
        if (d > atomic_load(&worst_child_ns))
            atomic_store(&worst_child_ns, d);
        atomic_fetch_add(&forks_done, 1);
    }
    atomic_store(&finished, 1);
    return unused;
}

value fault_start_forker(value n)
{
    forks_wanted = Int_val(n);
    pthread_t t;
    if (pthread_create(&t, NULL, forker, NULL) != 0)
        return Val_false;
    pthread_detach(t);
    return Val_true;
}

value fault_forker_finished(value unit)
{
    (void)unit;
    return Val_bool(atomic_load(&finished));
}

/* (forks done, forks failed, worst child lifetime in microseconds) */
value fault_forker_counts(value unit)
{
    (void)unit;
    value r = caml_alloc_tuple(3);
    Field(r, 0) = Val_int(atomic_load(&forks_done));
    Field(r, 1) = Val_int(atomic_load(&forks_failed));
    Field(r, 2) = Val_long(atomic_load(&worst_child_ns) / 1000);
    return r;
}
