/* stub_abi: the storage of the globals stub.S reads (stub_abi.h). They live with the stub,
 * not with the injector that sets them (inject/hijack.c, once, before the first hijack;
 * the hand-off before each injection), so that the stub depends on nothing above it. */
#include "stub_abi.h"

uint64_t stub_exn_handler_offset;
uint64_t stub_current_stack_offset;
uint64_t stub_stack_id_offset;
uintptr_t stub_caml_call_gc;
const uintptr_t *stub_unhandled_exn;
__thread struct stub_handoff stub_handoff __attribute__((tls_model("initial-exec")));
