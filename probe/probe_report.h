/* probe_report: every fact ocpreempt-probe establishes about one file, and the verdict.
 *
 * Filled once by probe_analyse(), then only read by the text and JSON renderers, so both
 * outputs always state the same facts. Invariants: `status` decides which parts are
 * meaningful (PROBE_ERROR: only `error`); each unsupported reason is one short phrase.
 */
#ifndef OCPREEMPT_PROBE_REPORT_H
#define OCPREEMPT_PROBE_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "census.h"
#include "elf_image.h"
#include "landing_report.h"
#include "ocaml_binary.h"
#include "runtime_layout.h"
#include "runtime_profile.h"
#include "shutdown_notice.h"
#include "yield_report.h"

#define PROBE_MAX_REASONS 8
#define PROBE_REASON_LEN 1024

enum probe_status {
    PROBE_SUPPORTED = 0,        /* exit codes */
    PROBE_UNSUPPORTED = 1,
    PROBE_ERROR = 2,
};

struct probe_report {
    const char *path;
    enum probe_status status;
    char error[ANALYSIS_ERR_LEN];            /* PROBE_ERROR: why the file was not analysed */

    bool is_elf;                             /* false: a bytecode script (#!ocamlrun) */
    bool elf_opened;                         /* the ELF was read: binary facts are valid */
    char bytecode_magic[16];                 /* "Caml1999X035" or "" */
    struct ocaml_binary_info info;
    bool pie, has_symtab, has_dwarf;
    bool dynamic;                            /* PT_INTERP: LD_PRELOAD can reach it */
    bool runtime_exported;                   /* OCaml 5 native: its runtime is in .dynsym,
                                                where the shim's front looks for it */

    bool profile_attempted;                  /* OCaml 5 native: the release profile */
    bool profile_selected;                   /* the shim's rule accepts the release */
    struct profile_choice profile;           /* selected, or the nearest (match ASSUMED)
                                                when refused; profile NULL: none near */
    bool checks_ran;
    struct profile_check_result checks;      /* the profile's checks on this binary */
    struct shutdown_notice shutdown_notice;  /* valid when checks_ran */

    bool layout_attempted, layout_ok;
    struct runtime_layout layout;
    char layout_error[ANALYSIS_ERR_LEN];

    bool census_attempted, census_ok;
    struct census census;
    char census_error[ANALYSIS_ERR_LEN];

    bool yield_attempted;
    struct yield_report yield;
    const struct yield_candidate *yield_choice;   /* what the shim will call, or NULL */
    const char *yield_choice_path;

    bool landing_attempted;                  /* deny list, critical extents, share */
    struct landing_report landing;

    char reasons[PROBE_MAX_REASONS][PROBE_REASON_LEN];
    size_t reason_count;
};

/* Analyses path (never runs it). requested_yield may be NULL. Fills *r completely. */
void probe_analyse(const char *path, const char *requested_yield, struct probe_report *r);

/* Renderers: write the report to stdout. */
void report_text(const struct probe_report *r);
void report_json(const struct probe_report *r);

#endif
