/* runtime_profile: what ocpreempt relies on in one OCaml release series, as one table.
 *
 * A profile is everything that differs between the releases the shim handles: the struct
 * layout, the frame-table ABI (caml_frame_descrs by pointer in 5.3, by value in 5.2; one
 * table or an array registered), the debuginfo format, the first bytes of the two fiber
 * switch routines the shim patches, memprof and the shutdown path. The shim binds
 * mechanism differences to small adapters once at start-up (shim/base/runtime.c); nothing is
 * compiled per release. Invariants:
 *  - one rule picks the profile, for the shim and the probe alike (runtime_profile_select):
 *    the exact release a profile was read from is accepted; another patch release of the
 *    same series, or any release under an explicit OCPREEMPT_ASSUME_RUNTIME, is accepted
 *    only when runtime_profile_check() passes on the binary's DWARF and code;
 *  - a refused series (5.1) is a profile with a `refusal`: the reason lives only there,
 *    and no opt-in overrides it;
 *  - every check can fail and names what failed (the probe lists them: docs/porting.md).
 */
#ifndef OCPREEMPT_RUNTIME_PROFILE_H
#define OCPREEMPT_RUNTIME_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "elf_image.h"
#include "ocaml_binary.h"
#include "runtime_layout.h"

/* How caml_get_frame_descrs / caml_find_frame_descr pass the descriptor table. */
enum frame_descrs_abi {
    FRAME_DESCRS_BY_POINTER,    /* 5.3: caml_frame_descrs *caml_get_frame_descrs(void) */
    FRAME_DESCRS_BY_VALUE,      /* 5.2: a 24-byte struct returned and passed by value */
};

/* How a frame table is registered. */
enum frametable_registration {
    REGISTER_ONE_TABLE,         /* 5.3: caml_register_frametable(void *) */
    REGISTER_TABLE_ARRAY,       /* 5.2: only caml_register_frametables(void **, int) */
};

#define SWITCH_PROLOGUE_MAX 8
#define SWITCH_ROUTINE_COUNT 2

/* The exact start of a routine the shim patches (shim/request/switch_hook.c): `mask` 0 marks a
 * displacement byte (a struct offset), which may take any value. */
struct switch_prologue {
    const char *routine;
    size_t len;
    unsigned char code[SWITCH_PROLOGUE_MAX];
    unsigned char mask[SWITCH_PROLOGUE_MAX];
};

struct runtime_profile {
    const char *series;                    /* "5.3" */
    const char *release;                   /* "5.3.0": the release it was read from */
    const char *refusal;                   /* non-NULL: never preempted, and why */
                                           /* its layout: runtime_layout_builtin(release) */
    enum frame_descrs_abi frame_descrs;
    enum frametable_registration registration;
    unsigned debuginfo_format;             /* 1: the 5.x two-word encoding (debuginfo.c) */
    const struct switch_prologue *prologues;  /* SWITCH_ROUTINE_COUNT: caml_resume,
                                                 caml_runstack (NULL: no switch hook) */
    bool memprof_sampling;                 /* false: compiled out (5.2), the trigger stays
                                              at young_start */
    bool shutdown_stops_domains;           /* caml_shutdown stops the other domains before
                                              it frees (PR #12964: 5.4 trunk) */
};

enum profile_match {
    PROFILE_EXACT,           /* the release the profile was read from */
    PROFILE_PATCH_RELEASE,   /* another release of the series: DWARF must agree */
    PROFILE_ASSUMED,         /* no profile; the user named one: DWARF must agree */
};

struct profile_choice {
    const struct runtime_profile *profile;
    enum profile_match match;
};

/* The supported series, for messages: "5.2, 5.3". */
const char *runtime_profile_supported_list(void);

/* A profile by series name ("5.3"), or NULL (refused series included: "5.1"). */
const struct runtime_profile *runtime_profile_named(const char *series);

/* The profile a port of `info`'s release would start from: the newest supported series not
 * newer than the release, else the oldest supported; NULL only if there is none. */
const struct runtime_profile *runtime_profile_nearest(const struct ocaml_binary_info *info);

/* The one version rule. `assume` is OCPREEMPT_ASSUME_RUNTIME ("" or NULL: none). 0 with
 * *out set (then, unless out->match is PROFILE_EXACT, the caller must refuse the binary
 * when runtime_profile_check fails); 1 refused, with one line in `why` naming the
 * supported releases and, for a release without a profile, the opt-in. */
int runtime_profile_select(const struct ocaml_binary_info *info, const char *assume,
                           struct profile_choice *out, char *why, size_t why_len);

#define PROFILE_CHECK_MAX 16
#define PROFILE_CHECK_LEN 200

struct profile_check_result {
    size_t passed, failed;
    char failures[PROFILE_CHECK_MAX][PROFILE_CHECK_LEN];   /* the first PROFILE_CHECK_MAX */
    bool dwarf;                          /* the DWARF checks ran */
};

/* Checks the binary against the profile: the layout (DWARF, every field the shim uses;
 * only with need_dwarf: for the profile's own release runtime_layout_read does it),
 * the frame-table ABI (the DWARF types of caml_get_frame_descrs and caml_find_frame_descr),
 * the registration function, the switch prologues and the runtime symbols the shim binds.
 * The DWARF checks are skipped when `img` has none and `need_dwarf` is false; with
 * need_dwarf, no DWARF is a failure. Fills *out; returns out->failed == 0 ? 0 : -1. */
int runtime_profile_check(const struct elf_image *img, const struct runtime_profile *p,
                          bool need_dwarf, struct profile_check_result *out);

const char *profile_match_name(enum profile_match m);

#endif
