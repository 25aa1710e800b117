/* ocaml_binary: which OCaml produced this ELF, if any (see ocaml_binary.h).
 *
 * Evidence used, all static (never runs the program):
 *  - kind: native code has caml_frametable and caml_start_program; OCaml 5 native code also
 *    has the effect primitives caml_runstack/caml_perform; a bytecode executable embeds the
 *    interpreter caml_interprete;
 *  - version: the Sys.ocaml_version string, an OCaml string block in the data of
 *    Stdlib__Sys (delimited by its data_begin/data_end symbols), since the native runtime
 *    carries no version string of its own;
 *  - variant: caml_runtime_variant() returns caml_copy_string("d" | "i" | ""): we decode
 *    its first rip-relative `lea` into %rdi and read that string; caml_failed_assert
 *    (only compiled with -DDEBUG) confirms "d";
 *  - frame pointers: caml_call_gc starts with `push %rbp; mov %rsp,%rbp` (ENTER_FUNCTION
 *    in runtime/amd64.S) only when the runtime was configured with frame pointers.
 * Invariant: anything undecidable is reported as unknown (version ""), never guessed.
 */
#include "ocaml_binary.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis_error.h"

#define STRING_TAG 252
#define MAX_VERSION_WORDS 4          /* "5.3.0+some-suffix" fits in 31 bytes */
#define VARIANT_SCAN_BYTES 96
#define MAX_SYS_DATA_SCAN (64u << 10)  /* Stdlib__Sys's data is about 1 KiB; the bounds
                                          come from the file, so the scan is capped */

static bool has_symbol(const struct elf_image *img, const char *name)
{
    struct elf_symbol sym;
    return elf_image_symbol(img, name, &sym) == 0;
}

static enum ocaml_binary_kind classify_kind(const struct elf_image *img)
{
    bool native = has_symbol(img, "caml_frametable") && has_symbol(img, "caml_start_program");
    if (native)
        return has_symbol(img, "caml_runstack") || has_symbol(img, "caml_perform")
                   ? OCAML_NATIVE_5 : OCAML_NATIVE_4;
    if (has_symbol(img, "caml_interprete") || has_symbol(img, "caml_startup_code"))
        return OCAML_BYTECODE;
    return NOT_OCAML;
}

/* "5.3.0", "4.13.1", "5.4.0+dev0-2025": digits.digits.digits then an optional [+~] tail. */
static bool looks_like_version(const char *s, size_t len)
{
    size_t i = 0;
    for (int part = 0; part < 3; part++) {
        size_t start = i;
        while (i < len && isdigit((unsigned char)s[i]))
            i++;
        if (i == start)
            return false;
        if (part < 2) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
    }
    if (i == len)
        return true;
    if (s[i] != '+' && s[i] != '~')
        return false;
    for (; i < len; i++)
        if (!isprint((unsigned char)s[i]))
            return false;
    return true;
}

/* Decodes an OCaml string block whose header is at `at`; false if it is not one. */
static bool read_string_block(const struct elf_image *img, uint64_t at, char *out, size_t cap)
{
    uint64_t header;
    if (elf_image_read(img, at, &header, sizeof header) != 0)
        return false;
    uint64_t wosize = header >> 10;
    if ((header & 0xff) != STRING_TAG || wosize == 0 || wosize > MAX_VERSION_WORDS)
        return false;
    uint8_t bytes[MAX_VERSION_WORDS * 8];
    size_t nbytes = (size_t)wosize * 8;
    if (elf_image_read(img, at + 8, bytes, nbytes) != 0)
        return false;
    size_t pad = bytes[nbytes - 1];            /* last byte: padding count - 1 */
    if (pad >= nbytes || pad > 7)
        return false;
    size_t len = nbytes - 1 - pad;
    if (len + 1 > cap)
        return false;
    memcpy(out, bytes, len);
    out[len] = '\0';
    return strlen(out) == len;
}

/* Finds the Sys.ocaml_version string among the string blocks of Stdlib__Sys's data. */
static bool version_from_sys_module(const struct elf_image *img, char *out, size_t cap)
{
    static const char *const begin_names[] = {"camlStdlib__Sys.data_begin",
                                              "camlStdlib__Sys__data_begin"};
    static const char *const end_names[] = {"camlStdlib__Sys.data_end",
                                            "camlStdlib__Sys__data_end"};
    for (size_t n = 0; n < 2; n++) {
        struct elf_symbol begin, end;
        if (elf_image_symbol(img, begin_names[n], &begin) != 0 ||
            elf_image_symbol(img, end_names[n], &end) != 0 || end.value <= begin.value)
            continue;
        /* Subtractions only: `at + 16` would wrap for symbols near 2^64. */
        uint64_t first = begin.value & ~(uint64_t)7;
        uint64_t span = end.value - first;
        if (span > MAX_SYS_DATA_SCAN)
            continue;
        for (uint64_t off = 0; span >= 16 && off <= span - 16; off += 8) {
            uint64_t at = first + off;
            char candidate[MAX_VERSION_WORDS * 8];
            if (read_string_block(img, at, candidate, sizeof candidate) &&
                looks_like_version(candidate, strlen(candidate)) && strlen(candidate) < cap) {
                strcpy(out, candidate);
                return true;
            }
        }
    }
    return false;
}

/* The string the first `lea disp32(%rip), %rdi` of caml_runtime_variant points at. */
static bool variant_string(const struct elf_image *img, char out[2])
{
    struct elf_symbol fn;
    if (elf_image_symbol(img, "caml_runtime_variant", &fn) != 0)
        return false;
    size_t span = fn.size && fn.size < VARIANT_SCAN_BYTES ? (size_t)fn.size : VARIANT_SCAN_BYTES;
    const uint8_t *code = elf_image_code(img, fn.value, span);
    if (code == NULL)
        return false;
    for (size_t i = 0; i + 7 <= span; i++) {
        /* REX.W (48), LEA (8d), ModRM mod=00 reg=rdi(111) rm=101 (rip-relative) = 3d */
        if (code[i] != 0x48 || code[i + 1] != 0x8d || code[i + 2] != 0x3d)
            continue;
        int32_t disp;
        memcpy(&disp, code + i + 3, sizeof disp);
        uint64_t target = fn.value + i + 7 + (uint64_t)(int64_t)disp;
        char s[3] = {0};
        if (elf_image_read(img, target, s, 2) != 0)
            return false;
        if (s[0] == '\0' || s[1] == '\0') {
            out[0] = s[0];
            out[1] = '\0';
            return true;
        }
    }
    return false;
}

static enum ocaml_runtime_variant classify_variant(const struct elf_image *img)
{
    char v[2];
    if (variant_string(img, v)) {
        if (v[0] == 'd')
            return RUNTIME_DEBUG;
        if (v[0] == 'i')
            return RUNTIME_INSTRUMENTED;
        return RUNTIME_NORMAL;
    }
    return has_symbol(img, "caml_failed_assert") ? RUNTIME_DEBUG : RUNTIME_NORMAL;
}

static bool call_gc_pushes_rbp(const struct elf_image *img)
{
    static const uint8_t enter_function[] = {0x55, 0x48, 0x89, 0xe5};
    struct elf_symbol fn;
    if (elf_image_symbol(img, "caml_call_gc", &fn) != 0)
        return false;
    const uint8_t *code = elf_image_code(img, fn.value, sizeof enter_function);
    return code != NULL && memcmp(code, enter_function, sizeof enter_function) == 0;
}

int ocaml_binary_identify(const struct elf_image *img, struct ocaml_binary_info *out,
                          struct analysis_error *err)
{
    memset(out, 0, sizeof *out);
    out->kind = classify_kind(img);
    if (out->kind == NOT_OCAML || out->kind == OCAML_BYTECODE)
        return 0;
    version_from_sys_module(img, out->version, sizeof out->version);
    out->variant = classify_variant(img);
    out->frame_pointers = call_gc_pushes_rbp(img);
    out->has_systhreads = has_symbol(img, "caml_thread_initialize");
    (void)err;
    return 0;
}

int ocaml_bytecode_trailer(const char *path, char *magic, size_t magic_len)
{
    /* ocamlc output ends with a trailer: num_sections (4 bytes) then the 12-byte
     * exec magic "Caml1999X0NN" (runtime/caml/exec.h). */
    static const char prefix[] = "Caml1999X";
    /* Only a regular file can hold one; O_NONBLOCK so that a FIFO cannot block the open. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    FILE *f = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (f = fdopen(fd, "rb")) == NULL) {
        close(fd);
        return -1;
    }
    char tail[12];
    int found = 0;
    if (fseek(f, -(long)sizeof tail, SEEK_END) == 0 && fread(tail, 1, sizeof tail, f) == sizeof tail &&
        memcmp(tail, prefix, sizeof prefix - 1) == 0) {
        found = 1;
        if (magic != NULL && magic_len > 0) {
            size_t n = sizeof tail < magic_len - 1 ? sizeof tail : magic_len - 1;
            memcpy(magic, tail, n);
            magic[n] = '\0';
        }
    }
    fclose(f);
    return found;
}

const char *ocaml_binary_kind_name(enum ocaml_binary_kind k)
{
    switch (k) {
    case NOT_OCAML: return "not-ocaml";
    case OCAML_BYTECODE: return "ocaml-bytecode";
    case OCAML_NATIVE_4: return "ocaml-native-4";
    case OCAML_NATIVE_5: return "ocaml-native-5";
    }
    return "unknown";
}

const char *ocaml_runtime_variant_name(enum ocaml_runtime_variant v)
{
    switch (v) {
    case RUNTIME_NORMAL: return "normal";
    case RUNTIME_DEBUG: return "debug";
    case RUNTIME_INSTRUMENTED: return "instrumented";
    }
    return "unknown";
}
