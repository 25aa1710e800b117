/* siginterrupt_read: a C program that relies on a signal interrupting a blocking read().
 *
 * siginterrupt(SIGALRM, 1) then signal(SIGALRM, handler): glibc's signal() installs the
 * handler without SA_RESTART because of siginterrupt, so a read() on an empty pipe fails
 * with EINTR when the interval timer fires. A preloaded library that interposes signal()
 * and forces SA_RESTART (the retired signal mode did) makes the read restart forever: the
 * handler then exits 3 after 20 deliveries, so the difference shows without a hang.
 * Prints "read: EINTR" and exits 0 when the program behaves as written.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t deliveries;

static void on_alarm(int sig)
{
    (void)sig;
    if (++deliveries >= 20) {
        static const char msg[] = "read: restarted after 20 signals (SA_RESTART forced)\n";
        (void)!write(1, msg, sizeof msg - 1);
        _exit(3);
    }
}

int main(void)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    /* Deprecated, and exactly what this program must keep doing: real programs still do. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    siginterrupt(SIGALRM, 1);
#pragma GCC diagnostic pop
    if (signal(SIGALRM, on_alarm) == SIG_ERR) {
        perror("signal");
        return 1;
    }
    struct itimerval every_10ms = { { 0, 10000 }, { 0, 10000 } };
    if (setitimer(ITIMER_REAL, &every_10ms, NULL) != 0) {
        perror("setitimer");
        return 1;
    }
    char c;
    ssize_t n = read(fds[0], &c, 1);    /* nobody writes: only a signal ends it */
    int saved = errno;
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    if (n < 0 && saved == EINTR) {
        printf("read: EINTR\n");
        return 0;
    }
    printf("read: %zd (%s)\n", n, n < 0 ? strerror(saved) : "data");
    return 2;
}
