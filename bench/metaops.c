/* Metadata benchmark: creates N empty files in DIR, stats each, unlinks each; prints the rate.
 * Usage: metaops DIR N [SECONDS]: with SECONDS, creation stops early once that much time passed
 * (so a very slow file system still finishes in bounded time); the created files are then stated
 * and unlinked as usual.
 * The same program runs on the host and (linked with -static) in the busybox test guest.
 * Output, one line: "files=N seconds=S files_per_s=R" (one "file" = create + stat + unlink). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: metaops DIR N [SECONDS]\n");
        return 2;
    }
    const char *dir = argv[1];
    long n = atol(argv[2]);
    double cap = argc == 4 ? atof(argv[3]) : 0;
    char path[4096];
    struct stat st;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%06ld", dir, i);
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0 || close(fd) != 0) { perror(path); return 1; }
        if (cap > 0 && (i & 15) == 15 && now() - t0 > cap) {
            n = i + 1;
            break;
        }
    }
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%06ld", dir, i);
        if (stat(path, &st) != 0) { perror(path); return 1; }
    }
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%06ld", dir, i);
        if (unlink(path) != 0) { perror(path); return 1; }
    }
    double s = now() - t0;
    printf("files=%ld seconds=%.3f files_per_s=%.1f\n", n, s, n / s);
    return 0;
}
