/* fiber_starter: what started the running fiber, named by a code address.
 *
 * A fiber's stack ends at its base (caml_runstack's frame); below it, on the parent stack
 * the handler points to, the parent is suspended in caml_runstack (the fiber's start) or
 * caml_resume (its last resumption), and the parent's saved sp holds the return address
 * into the code that called it: the scheduler, usually through Stdlib__Effect's
 * match_with/continue. The starter is, first, the fiber's handler's own code (its retc,
 * else its exnc: match_with installs the scheduler's closures as they are), then the first
 * frame on the parent side, innermost first and across further parents if need be: the
 * first of those whose code is neither transparent (code_owner.h: Stdlib, glue) nor
 * Stdlib__Effect: a hand-rolled scheduler's `spawn`, Eio's or Picos' run loop. The handler
 * comes first because tail calls can leave no frame of the scheduler on any stack (Picos'
 * run_fiber and next reach caml_runstack by tail calls only: the suites' own
 * Test_scheduler, which calls run_fiber directly, was named instead, and a fiber starting
 * in caml_curry4_3 was preempted before wrap_any's try: Terminate escaped).
 * Users: landing.c, for a fiber whose own frames are all transparent (a frame whose verdict
 * comes from its caller, with no caller left in the fiber, takes the starter's); issue
 * 19's per-fiber accounting, to name a fiber whose own frames name nothing (fiber_name.h).
 * Context: the fiber's own thread with the domain lock held (the interrupt hook): the
 * parents are suspended and do not move. Reads only; no state.
 */
#ifndef OCPREEMPT_FIBER_STARTER_H
#define OCPREEMPT_FIBER_STARTER_H

#include <stdint.h>

/* The run-time code address of the starter of the fiber whose stack_info is `stack` (a
 * handler closure's code, or a return address), or 0 if it cannot be named: no parent (the main fiber), a frame without descriptor, a
 * C-to-OCaml boundary or the end of the chain before any such frame. */
uintptr_t fiber_starter(uintptr_t stack);

#endif
