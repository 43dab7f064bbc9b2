/*
 * fsops: one system call per subcommand, for the guest workloads. busybox cannot issue these
 * (xattrs, renameat2 flags, SEEK_DATA, copy_file_range, POSIX/BSD locks, shared mmap writes,
 * syncfs, access, fsyncdir); the tests compile this file statically on the host
 * (gcc -static -O2 -o fsops fsops.c) and hand it to the guest through QEMU fw_cfg.
 *
 * Output: what the call returned (a value, a name list), or on failure
 * "ERR <ERRNO-NAME>: <strerror>" on stdout with exit status 1, so scripts can match the errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e) {
    switch (e) {
    case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case EIO: return "EIO";
    case EBADF: return "EBADF"; case EAGAIN: return "EAGAIN"; case EACCES: return "EACCES";
    case EEXIST: return "EEXIST"; case EXDEV: return "EXDEV"; case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR"; case EINVAL: return "EINVAL"; case ENOSPC: return "ENOSPC";
    case ERANGE: return "ERANGE"; case ENAMETOOLONG: return "ENAMETOOLONG"; case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY"; case ELOOP: return "ELOOP"; case ENODATA: return "ENODATA";
    case EOPNOTSUPP: return "EOPNOTSUPP"; case ENXIO: return "ENXIO"; case EDEADLK: return "EDEADLK";
    case ENODEV: return "ENODEV"; case EROFS: return "EROFS"; case EFBIG: return "EFBIG";
    default: return "E?";
    }
}

static int fail(const char *what) {
    int e = errno;
    printf("ERR %s: %s (%s)\n", errname(e), strerror(e), what);
    return 1;
}

static int open_or_die(const char *path, int flags) {
    int fd = open(path, flags, 0644);
    if (fd < 0) { fail("open"); exit(1); }
    return fd;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Holds a lock in the parent and probes it from a child process (locks are per process). */
static int locks(const char *path) {
    int fd = open_or_die(path, O_RDWR | O_CREAT);
    struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
    if (fcntl(fd, F_SETLK, &l) < 0) return fail("F_SETLK parent");
    int pipefd[2];
    if (pipe(pipefd) < 0) return fail("pipe");
    pid_t child = fork();
    if (child == 0) {
        int cfd = open_or_die(path, O_RDWR);
        struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 10 };
        if (fcntl(cfd, F_GETLK, &q) < 0) { fail("F_GETLK child"); _exit(1); }
        int conflict = q.l_type == F_WRLCK && q.l_pid == getppid();
        struct flock t = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 10 };
        int busy = fcntl(cfd, F_SETLK, &t) < 0 && (errno == EAGAIN || errno == EACCES);
        struct flock free_range = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 200, .l_len = 10 };
        int other = fcntl(cfd, F_SETLK, &free_range) == 0;
        /* Tell the parent to release, then wait for the lock (SETLKW). */
        (void)write(pipefd[1], "x", 1);
        struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
        int waited = fcntl(cfd, F_SETLKW, &w) == 0;
        int bsd = flock(cfd, LOCK_EX | LOCK_NB) == 0;
        printf("getlk-conflict=%d (type %s pid %d, holder %d) setlk-busy=%d other-range=%d setlkw=%d", conflict,
               q.l_type == F_WRLCK ? "W" : q.l_type == F_RDLCK ? "R" : "U", (int)q.l_pid, (int)getppid(),
               busy, other, waited);
        printf(" flock=%d\n", bsd);
        fflush(stdout);
        _exit(conflict && busy && other && waited && bsd ? 0 : 1);
    }
    char c;
    if (read(pipefd[0], &c, 1) != 1) return fail("pipe read");
    usleep(200 * 1000);   /* let the child block in F_SETLKW; it succeeds either way */
    l.l_type = F_UNLCK;
    if (fcntl(fd, F_SETLK, &l) < 0) return fail("F_UNLCK");
    int st;
    waitpid(child, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: fsops CMD PATH [ARGS]\n"
                "  setxattr P NAME VALUE [create|replace] | getxattr P NAME | listxattr P | removexattr P NAME\n"
                "  rename2 OLD NEW noreplace|exchange | seekdata P OFF | seekhole P OFF\n"
                "  copyrange SRC DST LEN | locks P | mmapwrite P TEXT | mmapread P LEN\n"
                "  fsync P | fdatasync P | fsyncdir DIR | syncfs P | access P r|w|x|f | createx P\n"
                "  utime P SECONDS | openat-dir-write P\n");
        return 2;
    }
    const char *cmd = argv[1], *p = argv[2];
    if (!strcmp(cmd, "setxattr") && argc >= 5) {
        int flags = argc > 5 ? (!strcmp(argv[5], "create") ? XATTR_CREATE : XATTR_REPLACE) : 0;
        return setxattr(p, argv[3], argv[4], strlen(argv[4]), flags) < 0 ? fail("setxattr") : 0;
    } else if (!strcmp(cmd, "getxattr") && argc >= 4) {
        char buf[4096];
        ssize_t n = getxattr(p, argv[3], buf, sizeof buf);
        if (n < 0) return fail("getxattr");
        /* Probe the size query too: getxattr with size 0 must return the same length. */
        ssize_t size = getxattr(p, argv[3], NULL, 0);
        if (size != n) { printf("ERR size query %zd != %zd\n", size, n); return 1; }
        printf("%.*s\n", (int)n, buf);
        return 0;
    } else if (!strcmp(cmd, "listxattr")) {
        char buf[8192];
        ssize_t n = listxattr(p, buf, sizeof buf);
        if (n < 0) return fail("listxattr");
        char *names[256];
        int k = 0;
        for (char *s = buf; s < buf + n && k < 256; s += strlen(s) + 1) names[k++] = s;
        qsort(names, k, sizeof names[0], cmp);
        for (int i = 0; i < k; i++) printf("%s%s", i ? "," : "", names[i]);
        printf("\n");
        return 0;
    } else if (!strcmp(cmd, "removexattr") && argc >= 4) {
        return removexattr(p, argv[3]) < 0 ? fail("removexattr") : 0;
    } else if (!strcmp(cmd, "rename2") && argc >= 5) {
        unsigned flags = !strcmp(argv[4], "exchange") ? RENAME_EXCHANGE : RENAME_NOREPLACE;
        return renameat2(AT_FDCWD, p, AT_FDCWD, argv[3], flags) < 0 ? fail("renameat2") : 0;
    } else if ((!strcmp(cmd, "seekdata") || !strcmp(cmd, "seekhole")) && argc >= 4) {
        int fd = open_or_die(p, O_RDONLY);
        off_t r = lseek(fd, atoll(argv[3]), cmd[4] == 'd' ? SEEK_DATA : SEEK_HOLE);
        if (r < 0) return fail("lseek");
        printf("%lld\n", (long long)r);
        return 0;
    } else if (!strcmp(cmd, "copyrange") && argc >= 5) {
        int in = open_or_die(p, O_RDONLY), out = open_or_die(argv[3], O_WRONLY | O_CREAT | O_TRUNC);
        size_t left = strtoull(argv[4], NULL, 10);
        while (left > 0) {
            ssize_t n = copy_file_range(in, NULL, out, NULL, left, 0);
            if (n < 0) return fail("copy_file_range");
            if (n == 0) break;
            left -= n;
        }
        printf("%llu\n", strtoull(argv[4], NULL, 10) - (unsigned long long)left);
        return 0;
    } else if (!strcmp(cmd, "locks")) {
        return locks(p);
    } else if (!strcmp(cmd, "mmapwrite") && argc >= 4) {
        int fd = open_or_die(p, O_RDWR | O_CREAT);
        size_t len = strlen(argv[3]);
        if (ftruncate(fd, len) < 0) return fail("ftruncate");
        char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) return fail("mmap shared");
        memcpy(m, argv[3], len);
        if (msync(m, len, MS_SYNC) < 0) return fail("msync");
        munmap(m, len);
        return close(fd) < 0 ? fail("close") : 0;
    } else if (!strcmp(cmd, "mmapread") && argc >= 4) {
        int fd = open_or_die(p, O_RDONLY);
        size_t len = strtoull(argv[3], NULL, 10);
        char *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) return fail("mmap read");
        printf("%.*s\n", (int)len, m);
        return 0;
    } else if (!strcmp(cmd, "fsync") || !strcmp(cmd, "fdatasync")) {
        int fd = open_or_die(p, O_RDWR);
        return (cmd[1] == 's' ? fsync(fd) : fdatasync(fd)) < 0 ? fail(cmd) : 0;
    } else if (!strcmp(cmd, "fsyncdir")) {
        int fd = open_or_die(p, O_RDONLY | O_DIRECTORY);
        return fsync(fd) < 0 ? fail("fsync dir") : 0;
    } else if (!strcmp(cmd, "syncfs")) {
        int fd = open_or_die(p, O_RDONLY);
        return syncfs(fd) < 0 ? fail("syncfs") : 0;
    } else if (!strcmp(cmd, "access") && argc >= 4) {
        int mode = argv[3][0] == 'r' ? R_OK : argv[3][0] == 'w' ? W_OK : argv[3][0] == 'x' ? X_OK : F_OK;
        return access(p, mode) < 0 ? fail("access") : 0;
    } else if (!strcmp(cmd, "createx")) {
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
        return fd < 0 ? fail("open O_EXCL") : close(fd);
    } else if (!strcmp(cmd, "utime") && argc >= 4) {
        struct timespec ts[2] = { { atoll(argv[3]), 0 }, { atoll(argv[3]), 0 } };
        return utimensat(AT_FDCWD, p, ts, 0) < 0 ? fail("utimensat") : 0;
    } else if (!strcmp(cmd, "openat-dir-write")) {
        int fd = open(p, O_WRONLY);
        return fd < 0 ? fail("open dir for writing") : close(fd);
    }
    fprintf(stderr, "fsops: unknown command or missing arguments: %s\n", cmd);
    return 2;
}
