/* Unit test: the built-in runtime layout table of an OCaml version equals what that
 * version's DWARF says, field by field, so a wrong table fails here rather than in the
 * shim. Run on a native executable of each version (its ocamlopt.opt has runtime DWARF).
 *   test_runtime_layout builtin_matches_dwarf BINARY VERSION
 */
#include <unistd.h>

#include "check.h"
#include "elf_image.h"
#include "ocaml_binary.h"
#include "runtime_layout.h"

#define SAME(field) CHECK_EQ(dwarf.field, table->field)

static void compare(const struct runtime_layout *table, const struct runtime_layout *d)
{
    const struct runtime_layout dwarf = *d;
    SAME(domain_state.young_limit);
    SAME(domain_state.young_ptr);
    SAME(domain_state.young_start);
    SAME(domain_state.young_end);
    SAME(domain_state.current_stack);
    SAME(domain_state.exn_handler);
    SAME(domain_state.action_pending);
    SAME(domain_state.requested_external_interrupt);
    SAME(domain_state.memprof_young_trigger);
    SAME(domain_state.id);
    SAME(domain_state.size);
    SAME(stack_info.sp);
    SAME(stack_info.exception_ptr);
    SAME(stack_info.handler);
    SAME(stack_info.size);
    SAME(stack_handler.handle_value);
    SAME(stack_handler.handle_exn);
    SAME(stack_handler.handle_effect);
    SAME(stack_handler.parent);
    SAME(stack_handler.size);
    SAME(c_stack_link.stack);
    SAME(c_stack_link.sp);
    SAME(c_stack_link.prev);
    SAME(c_stack_link.size);
}

static void test_builtin_matches_dwarf(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: builtin_matches_dwarf BINARY VERSION\n");
        check_failures++;
        return;
    }
    if (access(argv[0], R_OK) != 0)
        SKIP("%s not found: OCaml %s not installed (scripts/setup-ocaml.sh)", argv[0], argv[1]);
    struct analysis_error err = {{0}};
    struct elf_image *img;
    if (elf_image_open(argv[0], &img, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        check_failures++;
        return;
    }
    struct ocaml_binary_info info;
    CHECK_EQ(ocaml_binary_identify(img, &info, &err), 0);
    CHECK_EQ(info.kind, OCAML_NATIVE_5);
    CHECK_STR(info.version, argv[1]);
    struct runtime_layout dwarf;
    int rc = runtime_layout_from_dwarf(img, &dwarf, &err);
    if (rc != 0)
        fprintf(stderr, "DWARF: %s\n", err.msg);
    CHECK_EQ(rc, 0);
    CHECK_EQ(dwarf.source, LAYOUT_FROM_DWARF);
    const struct runtime_layout *table = runtime_layout_builtin(argv[1]);
    CHECK(table != NULL);
    if (rc == 0 && table != NULL) {
        CHECK_EQ(table->source, LAYOUT_BUILTIN);
        CHECK_STR(table->builtin_name, argv[1]);
        compare(table, &dwarf);
    }
    /* runtime_layout_read prefers DWARF when there is some */
    struct runtime_layout read;
    CHECK_EQ(runtime_layout_read(img, &info, &read, &err), 0);
    CHECK_EQ(read.source, LAYOUT_FROM_DWARF);
    elf_image_close(img);
}

static void test_builtin_lookup(int argc, char **argv)
{
    CHECK(runtime_layout_builtin("5.3.0") != NULL);
    CHECK(runtime_layout_builtin("5.3.0+fp") == runtime_layout_builtin("5.3.0"));
    CHECK(runtime_layout_builtin("5.1.0") != NULL);
    CHECK(runtime_layout_builtin("5.1.4") == runtime_layout_builtin("5.1.0"));
    CHECK(runtime_layout_builtin("5.2.0") != NULL);
    CHECK_EQ(runtime_layout_builtin("5.2.0")->domain_state.requested_external_interrupt, 248);
    CHECK(runtime_layout_builtin("5.4.0+dev0-2024-08-25") == NULL);
    CHECK(runtime_layout_builtin("5.3") == NULL);
    CHECK(runtime_layout_builtin("5.3.00") == NULL);
    CHECK(runtime_layout_builtin("") == NULL);
    CHECK(runtime_layout_builtin(NULL) == NULL);
    const struct runtime_layout *old = runtime_layout_builtin("5.1.0");
    CHECK_EQ(old->domain_state.memprof_young_trigger, (size_t)-1);  /* absent before 5.2 */
    /* the figures the shim was designed against */
    const struct runtime_layout *l = runtime_layout_builtin("5.3.0");
    CHECK_EQ(l->domain_state.young_limit, 0);
    CHECK_EQ(l->domain_state.young_ptr, 8);
    CHECK_EQ(l->domain_state.current_stack, 40);
    CHECK_EQ(l->domain_state.exn_handler, 48);
    CHECK_EQ(l->domain_state.requested_external_interrupt, 256);
    CHECK_EQ(l->domain_state.memprof_young_trigger, 472);
    CHECK_EQ(l->stack_info.handler, 16);
    CHECK_EQ(l->stack_info.size, 56);
    CHECK_EQ(l->stack_handler.parent, 24);
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"builtin_matches_dwarf", test_builtin_matches_dwarf},
        {"builtin_lookup", test_builtin_lookup},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
