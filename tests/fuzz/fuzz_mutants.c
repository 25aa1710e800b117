/* fuzz_mutants: seeded-mutant fuzzing of the analysis readers and the configuration
 * parser, meant to be built with ASan+UBSan (target ocpreempt-fuzz-mutants).
 *
 *   fuzz_mutants [--seed N] [--binaries N] [--envs N] [--timeout S] [--budget S]
 *                [--findings DIR] [--shim LIB --yield M.fn] [--only KIND] SEED_EXECUTABLE...
 *
 * Each binary mutant is one real executable with one or a few mutations (a truncation,
 * flipped bytes in the ELF header / program headers / section headers / a section, a
 * wrapped RELATIVE relocation, an extreme .symtab value or size, corrupt frame-table or
 * DWARF bytes, a frame descriptor's return address moved), written to a temporary file and analysed by fuzz_analyse_file() in a
 * forked child under alarm(timeout). Each environment mutant sets a few OCPREEMPT_*
 * variables (enumerated from the configuration table, so new variables are fuzzed as
 * soon as they exist) to mutated or hostile values and checks fuzz_config_contract().
 * With --shim, every mutant of a seed that runs (`SEED quick`, 1 ms quantum) is also run
 * alone and with LD_PRELOAD=LIB: a mutant that runs normally alone must run the same
 * with the shim, with at most one "ocpreempt:" line on stderr (issue 9 item 9's "runs
 * fine alone, crashes only with the preload"); one that fails with the shim is rerun alone
 * FLAKY_RERUNS times and counted as a finding only if every rerun is sound (some mutants
 * crash alone only for some address-space layouts). --only KIND restricts the mutations to one
 * kind (truncate, elf-header, ..., retaddr: the names printed in the summary).
 * Invariants: mutant i of a run depends only on (seed, i), so a finding is reproducible
 * from the printed seed and index; the run stops early at --budget seconds (the counts
 * actually run are printed); any child killed by a signal, exiting non-zero or timing out
 * is a finding, its input kept under --findings. Exit 0 no finding, 1 findings, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "elf_mutate.h"
#include "fuzz_target.h"

#define MAX_SEEDS 16
#define MAX_ENV 6
#define ENV_VALUE_MAX 6000
#define FLAKY_RERUNS 8                /* alone runs that must all pass before blaming the shim */

/* ---- deterministic randomness ------------------------------------------------------- */

static uint64_t rng_state;

static void rng_seed(uint64_t seed, uint64_t index)
{
    rng_state = seed * 0x9E3779B97F4A7C15ull ^ (index + 1) * 0xD1B54A32D192ED03ull;
    if (rng_state == 0)
        rng_state = 1;
}

static uint64_t rng(void)                       /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static uint64_t below(uint64_t n) { return n ? rng() % n : 0; }

/* Values readers must survive wherever a size, offset or address is read. */
static uint64_t extreme_value(void)
{
    static const uint64_t values[] = {
        0, 1, 7, 8, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
        0x7fffffffffffffffull, 0x8000000000000000ull, 0xfffffffffffffff8ull,
        0xfffffffffffffff9ull, 0xffffffffffffffffull,
    };
    if (below(4) == 0)
        return rng();
    return values[below(sizeof values / sizeof values[0])];
}

/* ---- seeds ------------------------------------------------------------------------- */

struct section_ref {
    long offset;
    size_t size;
    char name[32];
};

struct seed {
    const char *path;
    struct blob original;
    struct section_ref sections[128];
    size_t section_count;
    size_t relocs;                       /* RELATIVE relocations */
    long symtab, symtab_size;            /* .symtab extent, -1 if none */
    uint64_t *descriptors;               /* return-address words of frame descriptors */
    size_t descriptor_count;
    uint64_t image_end;
};

#define MAX_DESCRIPTORS (1u << 18)

static int load_seed(const char *path, struct seed *s)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    if (blob_load(path, &s->original) != 0 || s->original.size < 64)
        return -1;
    size_t count = mutate_section_count(path);
    for (size_t i = 1; i < count && s->section_count < 128; i++) {
        struct section_ref *r = &s->sections[s->section_count];
        r->offset = mutate_section(path, i, &r->size, r->name, sizeof r->name);
        if (r->offset >= 0)
            s->section_count++;
    }
    mutate_relative_reloc(path, 0, &s->relocs);
    size_t size = 0;
    s->symtab = mutate_section_named(path, ".symtab", &size);
    s->symtab_size = (long)size;
    s->descriptors = malloc(MAX_DESCRIPTORS * sizeof *s->descriptors);
    if (s->descriptors != NULL)
        s->descriptor_count = mutate_descriptor_words(path, s->descriptors, MAX_DESCRIPTORS);
    s->image_end = mutate_image_end(path);
    return 0;
}

/* ---- mutations -------------------------------------------------------------------- */

static void flip_bytes(struct blob *b, size_t from, size_t len, unsigned flips)
{
    if (len == 0 || from >= b->size)
        return;
    if (len > b->size - from)
        len = b->size - from;
    for (unsigned i = 0; i < flips; i++) {
        size_t at = from + below(len);
        b->bytes[at] = below(3) == 0 ? (uint8_t)rng() : b->bytes[at] ^ (uint8_t)(1u << below(8));
    }
}

static const struct section_ref *section_named(const struct seed *s, const char *prefix)
{
    size_t matches = 0;
    for (size_t i = 0; i < s->section_count; i++)
        if (strncmp(s->sections[i].name, prefix, strlen(prefix)) == 0)
            matches++;
    if (matches == 0)
        return NULL;
    size_t pick = below(matches);
    for (size_t i = 0; i < s->section_count; i++)
        if (strncmp(s->sections[i].name, prefix, strlen(prefix)) == 0 && pick-- == 0)
            return &s->sections[i];
    return NULL;
}

static uint64_t read_u64(const struct blob *b, size_t at)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && at + i < b->size; i++)
        v |= (uint64_t)b->bytes[at + i] << (8 * i);
    return v;
}

enum mutation {
    MUT_TRUNCATE, MUT_ELF_HEADER, MUT_PROGRAM_HEADERS, MUT_SECTION_HEADERS, MUT_SECTION_BYTES,
    MUT_WRAPPED_RELOC, MUT_SYMBOL_FIELD, MUT_FRAME_DATA, MUT_DWARF, MUT_RETADDR, MUT_COUNT
};

static const char *const mutation_names[MUT_COUNT] = {
    "truncate", "elf-header", "program-headers", "section-headers", "section-bytes",
    "wrapped-reloc", "symbol-field", "frame-data", "dwarf", "retaddr",
};

/* Applies one mutation; returns the length of the file to write (truncations). */
static size_t apply(const struct seed *s, struct blob *b, enum mutation m)
{
    size_t size = b->size;
    switch (m) {
    case MUT_TRUNCATE:
        return below(4) == 0 ? below(4096) : below(size);
    case MUT_ELF_HEADER:
        flip_bytes(b, 0, 64, 1 + (unsigned)below(3));
        break;
    case MUT_PROGRAM_HEADERS: {
        size_t phoff = (size_t)read_u64(b, 32), phnum = b->bytes[56] | (size_t)b->bytes[57] << 8;
        flip_bytes(b, phoff, phnum * 56, 1 + (unsigned)below(4));
        break;
    }
    case MUT_SECTION_HEADERS: {
        size_t shoff = (size_t)read_u64(b, 40), shnum = b->bytes[60] | (size_t)b->bytes[61] << 8;
        if (below(2) && shnum > 1 && shoff < size) {          /* one field to an extreme */
            size_t field = shoff + 64 * (1 + below(shnum - 1)) + 8 * (1 + below(7));
            if (field + 8 <= size)
                blob_put(b, (long)field, extreme_value(), 8);
        } else {
            flip_bytes(b, shoff, shnum * 64, 1 + (unsigned)below(4));
        }
        break;
    }
    case MUT_SECTION_BYTES: {
        if (s->section_count == 0)
            break;
        const struct section_ref *r = &s->sections[below(s->section_count)];
        flip_bytes(b, (size_t)r->offset, r->size, 1 + (unsigned)below(16));
        break;
    }
    case MUT_WRAPPED_RELOC: {
        if (s->relocs == 0)
            break;
        long at = mutate_relative_reloc(s->path, below(s->relocs), NULL);
        uint64_t wrapped = below(2) ? 0xFFFFFFFFFFFFFFF8ull + below(8) : extreme_value();
        blob_put(b, at, wrapped, 8);
        if (below(2))
            blob_put(b, at + 16, extreme_value(), 8);       /* the addend too */
        break;
    }
    case MUT_SYMBOL_FIELD: {
        if (s->symtab < 0 || s->symtab_size < 24)
            break;
        for (unsigned k = 0; k < 1 + below(8); k++) {
            size_t sym = (size_t)s->symtab + 24 * below((uint64_t)s->symtab_size / 24);
            blob_put(b, (long)(sym + (below(2) ? 8 : 16)), extreme_value(), 8);
        }
        break;
    }
    case MUT_FRAME_DATA: {
        const struct section_ref *r = section_named(s, ".data");
        if (r != NULL)
            flip_bytes(b, (size_t)r->offset, r->size, 1 + (unsigned)below(32));
        break;
    }
    case MUT_DWARF: {
        const struct section_ref *r = section_named(s, ".debug_");
        if (r != NULL)
            flip_bytes(b, (size_t)r->offset, r->size, 1 + (unsigned)below(16));
        break;
    }
    case MUT_RETADDR: {                       /* a descriptor's return address moved */
        if (s->descriptor_count == 0)
            break;
        uint64_t word = s->descriptors[below(s->descriptor_count)];
        uint64_t moved = below(2) ? s->image_end + below(1ull << 32) : extreme_value();
        long reloc = mutate_relative_reloc_at(s->path, word);    /* PIE: the loader's value */
        blob_put(b, mutate_vaddr_offset(s->path, word), moved, 8);
        if (reloc >= 0)
            blob_put(b, reloc + 16, moved, 8);
        break;
    }
    case MUT_COUNT:
        break;
    }
    return size;
}

/* ---- environment mutants ------------------------------------------------------------ */

static const char *const hostile_values[] = {
    "", "0", "-1", "1", "+", ",", ",,,", "+,", "none", "+none", "18446744073709551615",
    "18446744073709551616", "99999999999999999999999s", "100us", "10ms", "1s", "0ns",
    "1e3ms", " 10ms", "10ms ", "10 ms", "10MS", "SIGURG", "SIGKILL", "SIGRTMIN+99",
    "SIGRTMAX-1", "64", "Eio.Fiber.yield", "a.b", "A..b", "A.", ".b", "A.B.C.D.E.F.G.H.I.J.K.L.M.N.O.P.Q.y",
    "Stdlib__Mutex,Eio", "debug", "quiet", "json", "text", "/dev/null", "/tmp/../tmp/x",
    "/proc/self/mem", "\t", "\x1b[31m", "\xff\xfe", "%s%s%n",
};

static char env_storage[MAX_ENV][ENV_VALUE_MAX + 256];

static void mutate_value(char *out, size_t cap, const char *base)
{
    size_t len = 0;
    switch (below(5)) {
    case 0:                                                  /* hostile word */
        len = (size_t)snprintf(out, cap, "%s", hostile_values[below(sizeof hostile_values /
                                                                    sizeof hostile_values[0])]);
        break;
    case 1: {                                                /* very long value */
        size_t n = 1 + below(ENV_VALUE_MAX);
        for (len = 0; len < n && len + 1 < cap; len++)
            out[len] = below(8) == 0 ? ',' : (char)('A' + below(26));
        out[len] = '\0';
        break;
    }
    default:                                                 /* the default, flipped */
        len = (size_t)snprintf(out, cap, "%s", base);
        for (unsigned i = 0; i < 1 + below(3) && len > 0; i++)
            out[below(len)] = (char)(1 + below(255));
        if (below(2) && len + 2 < cap) {
            out[len++] = (char)(1 + below(255));
            out[len] = '\0';
        }
        break;
    }
}

static size_t make_env(char **env)
{
    size_t options = config_option_count(), n = 1 + below(MAX_ENV);
    for (size_t i = 0; i < n; i++) {
        char value[ENV_VALUE_MAX + 1];
        const struct config_option_doc *doc = config_option_doc(below(options));
        bool unknown = below(10) == 0 || doc == NULL;
        mutate_value(value, sizeof value, unknown ? "" : doc->default_text);
        snprintf(env_storage[i], sizeof env_storage[i], "%s=%s",
                 unknown ? "OCPREEMPT_QUANTUMM" : doc->name, value);
        env[i] = env_storage[i];
    }
    return n;
}

/* ---- running children ----------------------------------------------------------------- */

struct tally {
    unsigned long binaries, envs, per_kind[MUT_COUNT], crashes, hangs, failures;
    unsigned long ran_alone, shim_refused, shim_silent, shim_broke, flaky_alone;
};

static const char *findings_dir;
static const char *shim_lib, *shim_yield;
static int only_kind = -1;                    /* --only: one mutation kind */

/* 0 clean, else a finding described on stderr. */
static int run_child(void (*body)(void *), void *arg, unsigned timeout, const char *what,
                     struct tally *t)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 0;                                 /* resource trouble is not a finding */
    if (pid == 0) {
        alarm(timeout);
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(3);
        body(arg);
        fflush(stdout);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        t->hangs++;
        fprintf(stderr, "fuzz: HANG (> %us): %s\n", timeout, what);
    } else if (WIFSIGNALED(status)) {
        t->crashes++;
        fprintf(stderr, "fuzz: CRASH (signal %d): %s\n", WTERMSIG(status), what);
    } else {
        t->failures++;
        fprintf(stderr, "fuzz: FAILURE (exit %d, sanitizer or contract): %s\n",
                WEXITSTATUS(status), what);
    }
    return -1;
}

static void analyse_body(void *path) { fuzz_analyse_file(path); }

struct env_case {
    char **env;
    size_t count;
};

static void env_body(void *p)
{
    struct env_case *c = p;
    if (fuzz_config_contract(c->env, c->count) != 0)
        _exit(4);
}

/* ---- running mutants as programs, alone and with the shim ------------------------------ */

struct program_run {
    int status;                       /* waitpid status */
    char out[256];                    /* stdout, cut */
    int shim_lines;                   /* stderr lines starting "ocpreempt:" */
    int other_lines;
};

static void read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

static void count_lines(const char *path, struct program_run *r)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "ocpreempt:", 10) == 0)
            r->shim_lines++;
        else
            r->other_lines++;
    }
    if (f)
        fclose(f);
}

/* `path quick` under alarm(timeout), optionally with the shim preloaded. */
static void run_program(const char *path, bool with_shim, unsigned timeout, const char *tmpdir,
                        struct program_run *r)
{
    char out[4096], err[4096];
    snprintf(out, sizeof out, "%s/out", tmpdir);
    snprintf(err, sizeof err, "%s/err", tmpdir);
    memset(r, 0, sizeof *r);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (freopen(out, "w", stdout) == NULL || freopen(err, "w", stderr) == NULL)
            _exit(126);
        char *argv[] = {(char *)path, "quick", NULL};
        char preload[4200], yield[300];
        snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim_lib);
        snprintf(yield, sizeof yield, "OCPREEMPT_YIELD=%s", shim_yield);
        char *env_shim[] = {preload, yield, "OCPREEMPT_QUANTUM=1ms", NULL};
        char *env_alone[] = {NULL};
        alarm(timeout);                                 /* survives execve */
        execve(path, argv, with_shim ? env_shim : env_alone);
        _exit(127);
    }
    while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR) {
    }
    read_file(out, r->out, sizeof r->out);
    count_lines(err, r);
}

static bool ran_normally(const struct program_run *r, const char *expected)
{
    return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0 && strcmp(r->out, expected) == 0;
}

/* 0 fine (or not runnable alone), -1 a finding. */
static int compare_with_shim(const char *mutant, const char *expected, unsigned timeout,
                             const char *tmpdir, const char *what, struct tally *t)
{
    struct program_run alone, shimmed;
    run_program(mutant, false, timeout, tmpdir, &alone);
    if (!ran_normally(&alone, expected) || alone.shim_lines + alone.other_lines != 0)
        return 0;                                   /* broken alone: nothing to compare */
    t->ran_alone++;
    run_program(mutant, true, timeout, tmpdir, &shimmed);
    if (ran_normally(&shimmed, expected) && shimmed.shim_lines <= 1 && shimmed.other_lines == 0) {
        if (shimmed.shim_lines)
            t->shim_refused++;
        else
            t->shim_silent++;
        return 0;
    }
    /* Some mutants crash alone only sometimes (corrupt data read at an address that
       depends on ASLR): a finding only if the mutant is reliably sound alone. */
    for (int again = 0; again < FLAKY_RERUNS; again++) {
        run_program(mutant, false, timeout, tmpdir, &alone);
        if (!ran_normally(&alone, expected)) {
            t->flaky_alone++;
            return 0;
        }
    }
    t->shim_broke++;
    fprintf(stderr, "fuzz: SHIM BREAKS a mutant that runs alone (status %#x, %d shim lines, "
            "%d other lines, output '%.60s'): %s\n", shimmed.status, shimmed.shim_lines,
            shimmed.other_lines, shimmed.out, what);
    return -1;
}

static void keep_finding(const char *src, const char *name)
{
    if (findings_dir == NULL)
        return;
    char dst[4096];
    snprintf(dst, sizeof dst, "%s/%s", findings_dir, name);
    struct blob b;
    if (blob_load(src, &b) == 0) {
        blob_save(&b, b.size, dst);
        blob_free(&b);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- main ----------------------------------------------------------------------------- */

struct options {
    uint64_t seed;
    unsigned long binaries, envs;
    unsigned timeout;
    double budget;
    const char *seeds[MAX_SEEDS];
    size_t seed_count;
};

static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.seed = 1, .binaries = 200, .envs = 2000, .timeout = 20,
                          .budget = 50};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--seed") == 0 && v) o->seed = strtoull(v, NULL, 0), i++;
        else if (strcmp(a, "--binaries") == 0 && v) o->binaries = strtoul(v, NULL, 0), i++;
        else if (strcmp(a, "--envs") == 0 && v) o->envs = strtoul(v, NULL, 0), i++;
        else if (strcmp(a, "--timeout") == 0 && v) o->timeout = (unsigned)atoi(v), i++;
        else if (strcmp(a, "--budget") == 0 && v) o->budget = atof(v), i++;
        else if (strcmp(a, "--findings") == 0 && v) findings_dir = v, i++;
        else if (strcmp(a, "--shim") == 0 && v) shim_lib = v, i++;
        else if (strcmp(a, "--yield") == 0 && v) shim_yield = v, i++;
        else if (strcmp(a, "--only") == 0 && v) {
            for (int m = 0; m < MUT_COUNT; m++)
                if (strcmp(v, mutation_names[m]) == 0)
                    only_kind = m;
            if (only_kind < 0)
                return -1;
            i++;
        }
        else if (a[0] == '-') return -1;
        else if (o->seed_count < MAX_SEEDS) o->seeds[o->seed_count++] = a;
    }
    return o->timeout > 0 && (shim_lib == NULL) == (shim_yield == NULL) ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: fuzz_mutants [--seed N] [--binaries N] [--envs N] "
                        "[--timeout S] [--budget S] [--findings DIR] [--shim LIB --yield M.fn] "
                        "[--only KIND] SEED_EXECUTABLE...\n");
        return 2;
    }
    static struct seed seeds[MAX_SEEDS];
    size_t loaded = 0;
    for (size_t i = 0; i < o.seed_count; i++) {
        if (load_seed(o.seeds[i], &seeds[loaded]) == 0)
            loaded++;
        else
            fprintf(stderr, "fuzz: skipping unreadable seed %s\n", o.seeds[i]);
    }
    if (findings_dir)
        mkdir(findings_dir, 0755);
    char tmpdir[] = "/tmp/ocpreempt-fuzz-XXXXXX";
    if (mkdtemp(tmpdir) == NULL) {
        perror("fuzz: mkdtemp");
        return 2;
    }
    char mutant[sizeof tmpdir + 16];
    snprintf(mutant, sizeof mutant, "%s/mutant", tmpdir);
    struct tally t = {0};
    /* What each seed prints when it runs normally (the reference for --shim). */
    static char expected[MAX_SEEDS][256];
    for (size_t i = 0; shim_lib && i < loaded; i++) {
        struct program_run r;
        run_program(seeds[i].path, false, o.timeout, tmpdir, &r);
        if (ran_normally(&r, r.out) && r.out[0] != '\0')
            snprintf(expected[i], sizeof expected[i], "%s", r.out);
    }
    double start = now_s();
    /* Interleave binaries and environments so a budget cut leaves both exercised. */
    unsigned long bi = 0, ei = 0;
    while ((bi < o.binaries && loaded > 0) || ei < o.envs) {
        if (now_s() - start > o.budget)
            break;
        if (bi < o.binaries && loaded > 0) {
            rng_seed(o.seed, bi);
            const struct seed *s = &seeds[bi % loaded];
            struct blob b = {malloc(s->original.size), s->original.size};
            memcpy(b.bytes, s->original.bytes, b.size);
            enum mutation m = only_kind >= 0 ? (enum mutation)only_kind
                                             : (enum mutation)below(MUT_COUNT);
            size_t len = apply(s, &b, m);
            if (m != MUT_TRUNCATE && only_kind < 0 && below(4) == 0)  /* sometimes two */
                apply(s, &b, (enum mutation)(1 + below(MUT_COUNT - 1)));
            blob_save(&b, len, mutant);
            blob_free(&b);
            char what[512];
            snprintf(what, sizeof what, "binary mutant %lu (%s of %s, --seed %llu)", bi,
                     mutation_names[m], s->path, (unsigned long long)o.seed);
            int finding = run_child(analyse_body, mutant, o.timeout, what, &t);
            if (shim_lib && expected[bi % loaded][0] != '\0' &&
                compare_with_shim(mutant, expected[bi % loaded], o.timeout, tmpdir, what, &t) != 0)
                finding = -1;
            if (finding != 0) {
                char name[64];
                snprintf(name, sizeof name, "mutant-%llu-%lu", (unsigned long long)o.seed, bi);
                keep_finding(mutant, name);
            }
            t.per_kind[m]++;
            t.binaries++;
            bi++;
        }
        for (int k = 0; k < 10 && ei < o.envs; k++, ei++) {
            rng_seed(o.seed ^ 0xE5u, ei);
            char *env[MAX_ENV];
            struct env_case c = {env, make_env(env)};
            char what[128];
            snprintf(what, sizeof what, "environment mutant %lu (--seed %llu)", ei,
                     (unsigned long long)o.seed);
            run_child(env_body, &c, o.timeout, what, &t);
            t.envs++;
        }
    }
    char scratch[sizeof tmpdir + 16];
    for (size_t k = 0; k < 3; k++) {
        static const char *const names[] = {"mutant", "out", "err"};
        snprintf(scratch, sizeof scratch, "%s/%s", tmpdir, names[k]);
        unlink(scratch);
    }
    rmdir(tmpdir);
    double elapsed = now_s() - start;
    printf("fuzz: seed %llu: %lu binary mutants of %zu executables (", (unsigned long long)o.seed,
           t.binaries, loaded);
    for (int m = 0; m < MUT_COUNT; m++)
        printf("%s%s %lu", m ? ", " : "", mutation_names[m], t.per_kind[m]);
    printf("), %lu environment mutants, %.1f s: %lu crashes, %lu hangs, %lu other failures\n",
           t.envs, elapsed, t.crashes, t.hangs, t.failures);
    if (shim_lib)
        printf("fuzz: with the shim: %lu mutants ran normally alone; with the shim %lu refused "
               "with one line, %lu ran silently, %lu broke (%lu more failed with the shim but "
               "also failed alone on a rerun: not counted)\n", t.ran_alone, t.shim_refused,
               t.shim_silent, t.shim_broke, t.flaky_alone);
    for (size_t i = 0; i < loaded; i++) {
        blob_free(&seeds[i].original);
        free(seeds[i].descriptors);
    }
    return t.crashes + t.hangs + t.failures + t.shim_broke ? 1 : 0;
}
