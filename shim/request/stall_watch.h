/* stall_watch: what a look at an overdue run means when the request the previous look
 * issued for it was not served: time where no preemption could help (base/stall_stats.h).
 *
 * A request poisons young_limit; OCaml code polls within a bounded time (loops, function
 * prologues, allocations), and the poll runs our hook, which takes the request (want = 0).
 * So a request still pending a look later, for the same run, means the domain spent that
 * CPU time without reaching a poll: inside C (an external, the runtime). Which C is read
 * from the domain, with plain loads of its domain state and, through process_vm_readv
 * (which fails instead of faulting on memory freed meanwhile), of two stack words:
 *  - the word just below Caml_state->c_stack is the return address of the last entry into
 *    C: every switch to the C stack (caml_c_call's `call *%rax`, a noalloc call, the
 *    runtime's own) pushes it there, so it names the *latest* entry, never an older one;
 *  - entered through caml_c_call: the saved OCaml stack pointer (current_stack->sp, equal
 *    to c_stack->sp when that entry saved both) points at the OCaml return address, which
 *    the c_call_table maps to the C function;
 *  - entered by a noalloc call: that word is the return address into the OCaml caller, and
 *    the code before it names the C function (landing/c_call_table.h).
 * Every value read is a hint checked against the table; what fails a check is counted as
 * unnamed time in C. A look's interval is charged to a C function only if that function
 * was the latest entry at both ends (the request's look, or the stretch's previous look):
 * one entered meanwhile after another (a noalloc spin returning to a noalloc sleep) would
 * otherwise be charged the other's CPU; such an interval is unnamed. Limits (docs/design.md): CPU time only (a C call blocked in a system
 * call without releasing the runtime uses none, and is not seen); a request lost to a
 * young_limit reset (overdue.c) counts the OCaml code running until the next look under
 * the latest C entry, a stretch shorter than the two quanta the report lists from
 * (report/stall_report.c); the main fiber is not watched (never preempted anyway).
 * A request the hook took and refused is not time in C: looks that see refusals for the
 * same reason, with none served in between, make a stretch of refused requests (CPU time
 * from the first refused request; a look with no news does not end it: the request still
 * pending, none issued, or taken by a hook that has not counted its verdict yet, with no
 * preemption of the domain since), whose longest per reason stall_stats.h keeps.
 * Monitor thread only, record pinned; only when stats are on.
 */
#ifndef OCPREEMPT_STALL_WATCH_H
#define OCPREEMPT_STALL_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "thread_registry.h"

/* A look at t that read its CPU clock (`cpu`) and found the fiber `stack` on domain ds;
 * `same_run`: the run the previous look saw. Before the look updates
 * t->look.refusals_seen. */
void stall_watch_look(struct thread_record *t, void *ds, void *stack, bool same_run,
                      bool main_fiber, uint64_t cpu);

/* This look issued a request for t's overdue run on domain ds, at CPU time `cpu` (and,
 * with stats, noted which C function the domain was in then). */
void stall_watch_requested(struct thread_record *t, void *ds, uint64_t cpu);

#endif
