/* Unit tests of ocaml_units (deny/critical entries name units and libraries, not string
 * prefixes) and of critical_extents' range search. */
#include <string.h>

#include "check.h"
#include "critical_extents.h"
#include "ocaml_units.h"

static enum unit_coverage cov(const char *entry, const char *unit)
{
    return ocaml_unit_coverage(entry, unit, strlen(unit));
}

static void test_coverage(int argc, char **argv)
{
    CHECK_EQ(cov("Miou", "Miou"), UNIT_COVERED_EXACT);
    CHECK_EQ(cov("Eio", "Eio__core__Fiber"), UNIT_COVERED_WRAPPED);
    CHECK_EQ(cov("Miou", "Miou_queue"), UNIT_COVERED_KNOWN);        /* Miou's own unit */
    CHECK_EQ(cov("Eio", "Eio_posix__Sched"), UNIT_COVERED_KNOWN);   /* known unit, wrapped */
    CHECK_EQ(cov("Picos", "Picos_mux_fifo"), UNIT_COVERED_KNOWN);
    CHECK_EQ(cov("Eio", "Lwt_dllist"), UNIT_COVERED_KNOWN);         /* Eio's waiter lists */
    CHECK_EQ(cov("Lwt", "Lwt_dllist"), UNIT_NOT_COVERED);           /* not Lwt's own */
    /* the program's own units that merely start with the entry */
    CHECK_EQ(cov("Miou", "Miou_fair"), UNIT_NOT_COVERED);
    CHECK_EQ(cov("Eio", "Eio_app"), UNIT_NOT_COVERED);
    CHECK_EQ(cov("Lwt", "Lwt_foo"), UNIT_NOT_COVERED);
    CHECK_EQ(cov("Thread", "Threadpool"), UNIT_NOT_COVERED);
    CHECK_EQ(cov("Miou", "Mio"), UNIT_NOT_COVERED);
    CHECK_EQ(cov("Eio", "Eio__"), UNIT_COVERED_WRAPPED);            /* dune's alias module */
    CHECK_EQ(cov("Eio", "Eio_posix__"), UNIT_COVERED_KNOWN);
    CHECK_EQ(cov("Stdlib__Hashtbl", "Stdlib__Hashtbl"), UNIT_COVERED_EXACT);
    CHECK_EQ(cov("CamlinternalFormat", "CamlinternalFormatBasics"), UNIT_NOT_COVERED);
    /* a unit given with its length, not NUL-terminated */
    CHECK_EQ(ocaml_unit_coverage("Miou", "Miou.code_begin", 4), UNIT_COVERED_EXACT);
}

static void test_lookalike(int argc, char **argv)
{
    CHECK(ocaml_unit_lookalike("Miou", "Miou_fair", 9));
    CHECK(ocaml_unit_lookalike("Thread", "Threadpool", 10));
    CHECK(!ocaml_unit_lookalike("Miou", "Miou", 4));
    CHECK(!ocaml_unit_lookalike("Miou", "Miou_queue", 10));
    CHECK(!ocaml_unit_lookalike("Miou", "Other", 5));
}

static void test_symbol_unit(int argc, char **argv)
{
    const char *unit, *rest;
    size_t len;
    CHECK(ocaml_symbol_unit("camlStdlib__Hashtbl.replace_1162", &unit, &len, &rest));
    CHECK_EQ(len, strlen("Stdlib__Hashtbl"));
    CHECK_STR(rest, "replace_1162");
    CHECK(!ocaml_symbol_unit("caml_call_gc", &unit, &len, &rest));
    CHECK(!ocaml_symbol_unit("camlSched", &unit, &len, &rest));
    CHECK(!ocaml_symbol_unit("memcpy", &unit, &len, &rest));
}

static void test_find(int argc, char **argv)
{
    struct extent_range ranges[] = { { 0x100, 0x200, 0 }, { 0x200, 0x280, 1 },
                                     { 0x400, 0x401, 2 } };
    struct extent_set set = { .ranges = ranges, .count = 3 };
    CHECK(critical_extents_find(&set, 0xff) == NULL);
    CHECK(critical_extents_find(&set, 0x100) == &ranges[0]);
    CHECK(critical_extents_find(&set, 0x1ff) == &ranges[0]);
    CHECK(critical_extents_find(&set, 0x200) == &ranges[1]);
    CHECK(critical_extents_find(&set, 0x280) == NULL);
    CHECK(critical_extents_find(&set, 0x400) == &ranges[2]);
    CHECK(critical_extents_find(&set, 0x401) == NULL);
    struct extent_set empty = { 0 };
    CHECK(critical_extents_find(&empty, 0x100) == NULL);
}

/* Debuginfo names (inlining chains) against unit and function entries. */
static void test_defname(int argc, char **argv)
{
    static struct extent_set set;                 /* large: off the stack */
    static const struct { const char *name; bool fn; } entries[] = {
        { "Stdlib__Hashtbl", false }, { "Mylib.Sched", false }, { "Eio", false },
        { "Mylib.Queue.push", true }, { "Sched.run", true },
    };
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
        set.entry[set.entry_count++] = (struct extent_entry){ entries[i].name, false,
                                                              entries[i].fn, 0, 0 };
    CHECK_EQ(critical_extents_of_defname(&set, "Stdlib__Hashtbl.replace"), 0);
    CHECK_EQ(critical_extents_of_defname(&set, "Stdlib__Hashtbl.MakeSeeded.add"), 0);
    CHECK_EQ(critical_extents_of_defname(&set, "Stdlib__Hashtbl"), 0);   /* unit init */
    CHECK_EQ(critical_extents_of_defname(&set, "Stdlib__HashtblX.f"), -1);
    CHECK_EQ(critical_extents_of_defname(&set, "Mylib__Sched.step"), 1);
    CHECK_EQ(critical_extents_of_defname(&set, "Eio__core__Fiber.yield"), 2);
    CHECK_EQ(critical_extents_of_defname(&set, "Eio_posix.run"), 2);      /* Eio's own unit */
    CHECK_EQ(critical_extents_of_defname(&set, "Eio_app.main"), -1);
    CHECK_EQ(critical_extents_of_defname(&set, "Mylib__Queue.push"), 3);  /* dune-wrapped */
    CHECK_EQ(critical_extents_of_defname(&set, "Mylib.Queue.push"), 3);   /* submodule */
    CHECK_EQ(critical_extents_of_defname(&set, "Mylib__Queue.pop"), -1);
    CHECK_EQ(critical_extents_of_defname(&set, "Mylib__Queue.push.(fun)"), -1);
    CHECK_EQ(critical_extents_of_defname(&set, "Sched.run"), 4);
    CHECK_EQ(critical_extents_of_defname(&set, "Sched.runner"), -1);
    CHECK_EQ(critical_extents_of_defname(&set, "<unknown>"), -1);
    CHECK_EQ(critical_extents_of_defname(&set, ""), -1);
}

int main(int argc, char **argv)
{
    static const struct subtest tests[] = {
        {"coverage", test_coverage},       {"lookalike", test_lookalike},
        {"symbol_unit", test_symbol_unit}, {"find", test_find},
        {"defname", test_defname},
        {NULL, NULL},
    };
    return run_subtests(argc, argv, tests);
}
