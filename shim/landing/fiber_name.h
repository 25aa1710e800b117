/* fiber_name: the name of a fiber for per-fiber accounting (issue 19), as a code address:
 * the entry of the function that started it.
 *
 * A fiber is named by the base-most of its frames whose code is the program's own: not
 * transparent (Stdlib, glue: code_owner.h), not Stdlib__Effect, not a deny-listed unit
 * (the schedulers: Eio's, Miou's, Picos' fork wrappers sit below the user's function).
 * With no such frame, the base-most frame that is neither transparent nor Stdlib__Effect
 * (a scheduler's own fiber); with none either, for a running fiber, its starter
 * (fiber_starter.h, the soundness rule's: the handler's retc/exnc, then the parent's
 * frames). The name is the entry address of that frame's function (the symbol holding the
 * return address), so fibers started by the same function share it; the report turns it
 * into `Module.fn file.ml:line` from tables prepared at start-up (fiber_report.h).
 *
 * Context: the interrupt hook, on the thread the fiber belongs to (domain lock held).
 * fiber_name_running walks the current stack in place. fiber_name_suspended never
 * dereferences the fiber's stack: it copies the stack with process_vm_readv (a stack freed
 * since the monitor saw it yields an error, not a fault) and names it only if the copy's
 * id is the one asked for; the walk then reads only the copy and the runtime's frame
 * descriptors, which cannot change while this domain is in its hook.
 */
#ifndef OCPREEMPT_FIBER_NAME_H
#define OCPREEMPT_FIBER_NAME_H

#include <stddef.h>
#include <stdint.h>

/* The name of the running fiber whose stack_info is `stack`; 0 if none can be given. */
uintptr_t fiber_name_running(uintptr_t stack);

/* The name of the suspended fiber `id` whose stack_info was at `stack`, using `buf` (of
 * `len` bytes) for the copy; 0 if the stack is gone, not that fiber's, too deep for the
 * buffer, or not walkable. */
uintptr_t fiber_name_suspended(uintptr_t stack, uint64_t id, unsigned char *buf, size_t len);

#endif
