/* fake_shim: a stand-in for libocpreempt.so in the launcher tests.
 *
 * The launcher tests are about the launcher (finding the library, LD_PRELOAD, exec,
 * statuses), so they preload this instead of the real shim: it does nothing at all, and
 * its only visible effect is to appear in /proc/<pid>/maps of the processes it is loaded
 * into, which is how the tests prove the dynamic linker really preloaded it.
 */

/* One exported symbol, so the library is not empty and `nm` shows what it is. */
__attribute__((visibility("default"))) const char ocpreempt_fake_shim[] = "fake shim";
