/* static_program MARKER: a statically linked program (linked with -static), which
 * LD_PRELOAD cannot reach. It creates MARKER, so a test can tell whether it ran. */
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    FILE *f = fopen(argv[1], "w");
    if (f == NULL)
        return 1;
    fputs("ran\n", f);
    return fclose(f) == 0 ? 0 : 1;
}
