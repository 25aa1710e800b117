/* hijack: the interrupt hook that turns a pending request into a call of the yield
 * closure at the current safe point (design: docs/design.md, "Inject"). */
#ifndef OCPREEMPT_HIJACK_H
#define OCPREEMPT_HIJACK_H

/* Sets the stub's globals (stub_abi.h) and installs our hook into
 * caml_domain_external_interrupt_hook, chaining the one found; base/runtime_hooks.h
 * re-installs it whenever someone (systhreads' caml_thread_initialize) replaces it. */
void hijack_install_hook(void);

#endif
