/* Unit test: which shutdown notice a binary gets (analysis/code/shutdown_notice.h).
 *   test_shutdown_notice shape BINARY KIND      KIND: free_locale | shutdown | none
 * on the fixtures (fixtures/shutdown_shapes.c, one build per shape) and on a binary of
 * each OCaml release (free_locale, the caller range being caml_free_locale's). */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "elf_image.h"
#include "shutdown_notice.h"

static void test_shape(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: shape BINARY free_locale|shutdown|none\n");
        check_failures++;
        return;
    }
    if (access(argv[0], R_OK) != 0)
        SKIP("%s not built", argv[0]);
    struct analysis_error err = {{0}};
    struct elf_image *img;
    CHECK_EQ(elf_image_open(argv[0], &img, &err), 0);
    if (check_failures)
        return;
    struct shutdown_notice n;
    shutdown_notice_decide(img, &n);
    fprintf(stderr, "%s: %s\n", argv[0], n.why);
    const char *caller = strcmp(argv[1], "free_locale") == 0 ? "caml_free_locale"
                         : strcmp(argv[1], "shutdown") == 0 ? "caml_shutdown" : NULL;
    enum shutdown_notice_kind want = caller == NULL ? NOTICE_NONE
                                     : caller[5] == 'f' ? NOTICE_FROM_FREE_LOCALE
                                                        : NOTICE_FROM_SHUTDOWN;
    CHECK_EQ(n.kind, want);
    if (caller != NULL) {
        struct elf_symbol sym;
        CHECK_EQ(elf_image_symbol(img, caller, &sym), 0);
        CHECK_EQ(n.caller, sym.value);
        CHECK_EQ(n.caller_end, sym.value + sym.size);
    } else {
        CHECK_EQ(n.caller, 0);
    }
    elf_image_close(img);
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"shape", test_shape},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
