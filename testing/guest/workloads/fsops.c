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
/* The child opens other (the same file through another mount, say): locks must conflict across them. */
static int locks(const char *path, const char *other) {
    int fd = open_or_die(path, O_RDWR | O_CREAT);
    struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
    if (fcntl(fd, F_SETLK, &l) < 0) return fail("F_SETLK parent");
    int pipefd[2];
    if (pipe(pipefd) < 0) return fail("pipe");
    pid_t child = fork();
    if (child == 0) {
        int cfd = open_or_die(other, O_RDWR);
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

/*
 * fsx FILE OPS SEED [direct]: a file-system exerciser in the manner of fsx (xfstests, LTP). OPS random
 * operations on FILE (created empty) through two descriptors: pwrite, pread, ftruncate, reads and
 * writes through a shared mapping, hole punching, copy_file_range inside the file, fsync, closing
 * and reopening, and dropping the file's cached pages (so reads go to the server); every read, and
 * the whole file every 100 operations and at the end, is compared with an in-memory model of what
 * the file must hold. With "direct" the second descriptor is O_DIRECT and its reads and writes
 * are page-aligned (xfstests' fsx -Z), mixed with buffered and mapped I/O on the first. Prints
 * "fsx ok: ... size S fnv1a64 H" (the model's size and FNV-1a hash, for
 * the host to compare with what the server stored) or the first difference with the operations
 * that led to it.
 */
#define FSX_MAX (1 << 20)
static unsigned long long fsx_state;
static unsigned fsx_rand(void) {
    fsx_state = fsx_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(fsx_state >> 33);
}
static char fsx_log[16][96];
static long fsx_ops;
static void fsx_note(const char *fmt, long a, long b) {
    snprintf(fsx_log[fsx_ops % 16], sizeof fsx_log[0], fmt, a, b);
}
static int fsx_fail(const char *what, long off, int got, int want) {
    printf("ERR EIO: fsx: %s at offset %ld after %ld operations: got 0x%02x, want 0x%02x; last operations:\n",
           what, off, fsx_ops, got & 0xff, want & 0xff);
    for (long i = fsx_ops - 15; i <= fsx_ops; i++) {
        if (i >= 0) printf("  #%ld %s\n", i, fsx_log[i % 16]);
    }
    return 1;
}
static int fsx_check(int fd, const char *model, long size, long off, long len, const char *how) {
    static char buf[FSX_MAX] __attribute__((aligned(4096)));
    long n = pread(fd, buf, len, off);
    long want = off >= size ? 0 : (off + len > size ? size - off : len);
    if (n != want) {
        printf("ERR EIO: fsx: %s of %ld bytes at %ld returned %ld, want %ld (size %ld) after %ld operations\n",
               how, len, off, n, want, size, fsx_ops);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        if (buf[i] != model[off + i]) return fsx_fail(how, off + i, buf[i], model[off + i]);
    }
    return 0;
}
static int fsx(const char *path, long ops, unsigned long long seed, int direct) {
    static char model[FSX_MAX];
    static char data[FSX_MAX] __attribute__((aligned(4096)));
    long size = 0;
    int punch = 1, copy = 1;
    fsx_state = seed;
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
    int fd2 = open(path, O_RDWR | (direct ? O_DIRECT : 0));
    if (fd < 0 || fd2 < 0) return fail("open");
    for (fsx_ops = 0; fsx_ops < ops; fsx_ops++) {
        long off = fsx_rand() % (FSX_MAX - 1);
        long len = 1 + fsx_rand() % (fsx_rand() % 4 ? 4096 : 65536);
        if (off + len > FSX_MAX) len = FSX_MAX - off;
        int rw = fsx_rand() % 2 ? fd : fd2;
        int op = fsx_rand() % 10;
        if (rw == fd2 && direct) { /* O_DIRECT for reads and writes only, page-aligned */
            if (op > 4) {
                rw = fd;
            } else {
                off &= ~4095L;
                len = (len + 4095) & ~4095L;
                if (off + len > FSX_MAX) len = FSX_MAX - off;
            }
        }
        switch (op) {
        case 0: case 1: case 2: /* pwrite */
            fsx_note("write %ld+%ld", off, len);
            for (long i = 0; i < len; i++) data[i] = (char)(fsx_rand() >> 5);
            if (pwrite(rw, data, len, off) != len) return fail("pwrite");
            if (off > size) memset(model + size, 0, off - size);
            memcpy(model + off, data, len);
            if (off + len > size) size = off + len;
            break;
        case 3: case 4: /* pread */
            fsx_note("read %ld+%ld", off, len);
            if (fsx_check(rw, model, size, off, len, "read")) return 1;
            break;
        case 5: /* ftruncate */
            off = fsx_rand() % 3 ? off : fsx_rand() % 8192;
            fsx_note("truncate %ld (from %ld)", off, size);
            if (ftruncate(rw, off) < 0) return fail("ftruncate");
            if (off > size) memset(model + size, 0, off - size);
            size = off;
            break;
        case 6: { /* through a shared mapping: read a range, or write one inside the file */
            if (size == 0) break;
            off %= size;
            if (off + len > size) len = size - off;
            long pg = off & ~4095L;
            char *m = mmap(NULL, off + len - pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pg);
            if (m == MAP_FAILED) return fail("mmap");
            if (fsx_rand() % 2) {
                fsx_note("mapread %ld+%ld", off, len);
                for (long i = 0; i < len; i++) {
                    if (m[off - pg + i] != model[off + i]) return fsx_fail("mapread", off + i, m[off - pg + i], model[off + i]);
                }
            } else {
                fsx_note("mapwrite %ld+%ld", off, len);
                for (long i = 0; i < len; i++) model[off + i] = m[off - pg + i] = (char)(fsx_rand() >> 7);
                if (msync(m, off + len - pg, MS_SYNC) < 0) return fail("msync");
            }
            munmap(m, off + len - pg);
            break;
        }
        case 7: /* punch a hole (the size stays) */
            if (!punch || size == 0) break;
            off %= size;
            if (off + len > size) len = size - off;
            fsx_note("punch %ld+%ld", off, len);
            if (fallocate(rw, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) < 0) {
                if (errno != EOPNOTSUPP) return fail("fallocate punch");
                punch = 0;
                break;
            }
            memset(model + off, 0, len);
            break;
        case 8: { /* copy_file_range inside the file, ranges apart */
            if (!copy || size == 0) break;
            long in = fsx_rand() % size;
            if (in + len > size) len = size - in;
            if ((off < in + len && in < off + len) || off > size) break;
            fsx_note("copy %ld -> %ld", in, off);
            loff_t i = in, o = off;
            long done = 0;
            while (done < len) {
                ssize_t n = copy_file_range(rw, &i, rw, &o, len - done, 0);
                if (n < 0 && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EXDEV) && done == 0) { copy = 0; break; }
                if (n <= 0) return fail("copy_file_range");
                done += n;
            }
            if (!copy) break;
            memmove(model + off, model + in, len);
            if (off + len > size) size = off + len;
            break;
        }
        default: /* fsync and drop the cached pages, or close and reopen one descriptor */
            if (fsx_rand() % 2) {
                fsx_note("fsync+dontneed %ld %ld", 0, 0);
                if (fsync(rw) < 0) return fail("fsync");
                posix_fadvise(rw, 0, 0, POSIX_FADV_DONTNEED);
            } else {
                fsx_note("reopen %ld %ld", 0, 0);
                close(fd2);
                fd2 = open(path, O_RDWR | (direct ? O_DIRECT : 0));
                if (fd2 < 0) return fail("reopen");
            }
        }
        if (fsx_ops % 100 == 99 || fsx_ops == ops - 1) {
            struct stat st;
            if (fstat(fd, &st) < 0) return fail("fstat");
            if (st.st_size != size) {
                printf("ERR EIO: fsx: size %ld, want %ld after %ld operations\n", (long)st.st_size, size, fsx_ops);
                return 1;
            }
            if (fsx_check(direct ? fd : fd2, model, size, 0, size, "full read")) return 1;
        }
    }
    if (fsync(fd) < 0) return fail("fsync");
    close(fd);
    close(fd2);
    unsigned long long h = 14695981039346656037ULL;
    for (long i = 0; i < size; i++) h = (h ^ (unsigned char)model[i]) * 1099511628211ULL;
    printf("fsx ok: %ld operations%s%s, size %ld fnv1a64 %016llx\n", ops, punch ? "" : ", no hole punching",
           copy ? "" : ", no copy_file_range", size, h);
    return 0;
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
        return locks(p, argc >= 4 ? argv[3] : p);
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
    } else if (!strcmp(cmd, "fsx") && argc >= 5) {
        return fsx(p, atol(argv[3]), strtoull(argv[4], NULL, 10), argc >= 6 && !strcmp(argv[5], "direct"));
    } else if (!strcmp(cmd, "openat-dir-write")) {
        int fd = open(p, O_WRONLY);
        return fd < 0 ? fail("open dir for writing") : close(fd);
    }
    fprintf(stderr, "fsops: unknown command or missing arguments: %s\n", cmd);
    return 2;
}
