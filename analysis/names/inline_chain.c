/* inline_chain: see inline_chain.h. */
#include "inline_chain.h"

#include <string.h>

#include "debuginfo.h"
#include "ocaml_units.h"

struct judging {
    const struct chain_policy *policy;
    struct chain_finding *out;
};

static bool unit_denied(const struct chain_policy *p, const char *defname)
{
    if (defname[0] < 'A' || defname[0] > 'Z')
        return false;                 /* "<unknown>": compiler-made code, no scope */
    const char *dot = strchr(defname, '.');
    size_t len = dot ? (size_t)(dot - defname) : strlen(defname);
    for (size_t i = 0; i < p->deny_count; i++)
        if (ocaml_unit_coverage(p->deny[i], defname, len) != UNIT_NOT_COVERED)
            return true;
    return false;
}

static enum chain_verdict name_verdict(const struct chain_policy *p, const char *defname)
{
    if (critical_extents_of_defname(p->extents, defname) >= 0)
        return CHAIN_EXTENT;
    return unit_denied(p, defname) ? CHAIN_DENIED : CHAIN_PLAIN;
}

static enum chain_verdict item_verdict(const struct chain_policy *p, const char *defname)
{
    if (p->memo == NULL)
        return name_verdict(p, defname);
    size_t slot = (size_t)(((uintptr_t)defname * 0x9E3779B97F4A7C15ull) >> 52) %
                  CHAIN_MEMO_SLOTS;
    if (p->memo->name[slot] != defname) {
        p->memo->verdict[slot] = (uint8_t)name_verdict(p, defname);
        p->memo->name[slot] = defname;
    }
    return (enum chain_verdict)p->memo->verdict[slot];
}

static int judge_item(const struct source_location *item, void *p)
{
    struct judging *j = p;
    j->out->has_debuginfo = true;
    enum chain_verdict v = item_verdict(j->policy, item->function);
    if (v == CHAIN_EXTENT) {
        j->out->verdict = CHAIN_EXTENT;
        j->out->defname = item->function;
        return 1;                     /* nothing refuses more */
    }
    if (v == CHAIN_DENIED && j->out->verdict == CHAIN_PLAIN) {
        j->out->verdict = CHAIN_DENIED;
        j->out->defname = item->function;
    }
    return 0;
}

void inline_chain_judge(const struct elf_image *img, const struct frame_descr_view *d,
                        uint64_t debug_info_link, const struct chain_policy *policy,
                        struct chain_finding *out)
{
    memset(out, 0, sizeof *out);
    struct judging j = { policy, out };
    for (unsigned i = 0; i < d->num_debug && out->verdict != CHAIN_EXTENT; i++)
        if (debuginfo_chain_each(img, debug_info_link + 4u * i, judge_item, &j) < 0)
            out->malformed = true;
}
