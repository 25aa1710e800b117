/* ocaml_units: which compilation units a module entry names (OCPREEMPT_DENY,
 * OCPREEMPT_CRITICAL), and how the units of an executable are named.
 *
 * An entry names a compilation unit or a library, never a string prefix: `Miou` covers
 * the unit `Miou`, every unit `Miou__*` (dune's wrapped modules) and the units the known
 * versions of the Miou library ship under their own names (`Miou_queue`, `Miou_unix`...,
 * listed in ocaml_units.c), never a user's `Miou_fair`. A unit that starts with an entry's
 * name without being covered is a *lookalike*: the probe reports it with the entry that
 * would deny it. Invariants: pure functions over names; no allocation.
 */
#ifndef OCPREEMPT_OCAML_UNITS_H
#define OCPREEMPT_OCAML_UNITS_H

#include <stdbool.h>
#include <stddef.h>

enum unit_coverage {
    UNIT_NOT_COVERED,
    UNIT_COVERED_EXACT,       /* the unit is the entry */
    UNIT_COVERED_WRAPPED,     /* Entry__X: a module of the wrapped library Entry */
    UNIT_COVERED_KNOWN,       /* a unit a known version of library Entry ships (or its
                                 Unit__X modules) */
};

/* Does `entry` cover the unit `unit` (len bytes, not necessarily NUL-terminated)? */
enum unit_coverage ocaml_unit_coverage(const char *entry, const char *unit, size_t len);

/* The unit starts with `entry` but is not covered by it: a user's `Miou_fair` next to
 * the deny entry `Miou`. */
bool ocaml_unit_lookalike(const char *entry, const char *unit, size_t len);

/* Splits a code symbol `caml<Unit>.<rest>` into unit and rest. false if it is not one. */
bool ocaml_symbol_unit(const char *symbol, const char **unit, size_t *unit_len,
                       const char **rest);

/* The unit a module frame table symbol names: `caml<Unit>.frametable` (or the older
 * `caml<Unit>__frametable`). false if the symbol is not one. */
bool ocaml_frametable_unit(const char *symbol, const char **unit, size_t *unit_len);

/* Is `symbol` named like a unit's module block, `caml<Unit>` (no '.', no escapes)? The
 * caller checks it is data. */
bool ocaml_block_symbol_name(const char *symbol);

#endif
