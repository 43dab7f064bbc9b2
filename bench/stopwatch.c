/* Times one command: runs CMD with its arguments, waits for it, prints the rate over N entries.
 * Usage: stopwatch N CMD [ARG...]
 * The busybox test guest has no clock finer than /proc/uptime's 10 ms; this one reads
 * CLOCK_MONOTONIC. Linked with -static for the guest, like metaops.
 * Output, one line: "entries=N seconds=S entries_per_s=R"; exit status: the command's (or 127). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: stopwatch N CMD [ARG...]\n");
        return 2;
    }
    long n = atol(argv[1]);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 127; }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) { perror("waitpid"); return 127; }
    double s = now() - t0;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 127;
    if (rc != 0) {
        fprintf(stderr, "stopwatch: %s exited with %d\n", argv[2], rc);
        return rc;
    }
    printf("entries=%ld seconds=%.4f entries_per_s=%.1f\n", n, s, n / s);
    return 0;
}
