/* hijack: the interrupt hook that turns a pending request into a call of the yield
 * closure at the current safe point (design: docs/design.md, "Inject"). */
#ifndef OCPREEMPT_HIJACK_H
#define OCPREEMPT_HIJACK_H

/* Installs our hook into caml_domain_external_interrupt_hook, chaining the one found. */
void hijack_install_hook(void);

/* Re-installs it if someone (systhreads' caml_thread_initialize) replaced it since. Safe
 * from any thread: one pointer-sized load and, rarely, two stores. */
void hijack_reinstall_hook_if_replaced(void);

#endif
