/* libfuzz_elf: libFuzzer harness over the analysis readers (clang -fsanitize=fuzzer).
 * One input = one whole file, handed to fuzz_analyse_file() through a memfd (the readers
 * open a path, and a memfd is a regular file, which elf_image_open requires). Seed the
 * corpus with a real OCaml executable (run_libfuzzer.sh does). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* The probe's reports go to stdout: keep libFuzzer's own output readable. */
    return freopen("/dev/null", "w", stdout) == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("ocpreempt-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (done == size)
        fuzz_analyse_file(path);
    close(fd);
    return 0;
}
