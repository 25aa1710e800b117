/* waitstatus: runs a command and reports how it ended, in terms a shell cannot blur.
 *
 *   waitstatus REPORT_FILE COMMAND [ARGS...]
 *
 * Writes "pid P" (the pid of the process it forked) and then "exited N" or "signaled N"
 * to REPORT_FILE. A shell shows both exit(143) and death by SIGTERM as $? = 143; the
 * launcher tests need to know which one happened (WIFSIGNALED), and that the launcher
 * exec'd the program instead of running it as a child (the program's pid is P).
 * Exit status: 0 when the report was written, 2 on a usage or system error.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    FILE *report;
    pid_t child;
    int status;

    if (argc < 3) {
        fprintf(stderr, "usage: waitstatus REPORT_FILE COMMAND [ARGS...]\n");
        return 2;
    }
    report = fopen(argv[1], "w");
    if (report == NULL) {
        perror(argv[1]);
        return 2;
    }
    child = fork();
    if (child < 0) {
        perror("fork");
        return 2;
    }
    if (child == 0) {
        fclose(report);
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    if (waitpid(child, &status, 0) != child) {
        perror("waitpid");
        return 2;
    }
    fprintf(report, "pid %ld\n", (long)child);
    if (WIFSIGNALED(status))
        fprintf(report, "signaled %d\n", WTERMSIG(status));
    else
        fprintf(report, "exited %d\n", WEXITSTATUS(status));
    return fclose(report) == 0 ? 0 : 2;
}
