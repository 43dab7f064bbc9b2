package io.vfsgw.nativeio;

import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * File-descriptor syscalls for a passthrough backend: openat, statx, preadv/pwritev, truncate, sync,
 * fallocate, lseek, copy_file_range, fstatfs, chmod/chown/utimens, readlinkat, OFD locks and flock.
 * Every failure is an {@link FsException} carrying the exact host errno; fds are plain ints.
 */
public final class PosixFiles {
    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_REMOVEDIR = 0x200;
    public static final int AT_SYMLINK_FOLLOW = 0x400;
    public static final int AT_EMPTY_PATH = 0x1000;

    public static final int F_OFD_GETLK = 36;
    public static final int F_OFD_SETLK = 37;
    public static final int F_OFD_SETLKW = 38;
    public static final int LOCK_SH = 1;
    public static final int LOCK_EX = 2;
    public static final int LOCK_NB = 4;
    public static final int LOCK_UN = 8;

    /** utimensat's special tv_nsec values. */
    public static final long UTIME_NOW = (1L << 30) - 1;
    public static final long UTIME_OMIT = (1L << 30) - 2;

    /** IOV_MAX on Linux: the most buffers one preadv/pwritev takes. */
    public static final int IOV_MAX = 1024;

    private static final byte[] EMPTY = {0};

    /** jnr-ffi binding; public only because jnr generates its implementation in another class loader. */
    public interface Libc {
        int openat(int dirfd, @In byte[] path, int flags, int mode);

        int close(int fd);

        long syscall(long number, int dirfd, @In byte[] path, long how, long size);

        int dup(int fd);

        int statx(int dirfd, @In byte[] path, int flags, int mask, long buf);

        @ssize_t long preadv(int fd, Pointer iov, int iovcnt, @off_t long offset);

        @ssize_t long pwritev(int fd, Pointer iov, int iovcnt, @off_t long offset);

        @ssize_t long pread(int fd, @Out ByteBuffer buf, @size_t long count, @off_t long offset);

        @ssize_t long pwrite(int fd, @In ByteBuffer buf, @size_t long count, @off_t long offset);

        int ftruncate(int fd, @off_t long length);

        int fsync(int fd);

        int fdatasync(int fd);

        int syncfs(int fd);

        int fallocate(int fd, int mode, @off_t long offset, @off_t long len);

        @off_t long lseek(int fd, @off_t long offset, int whence);

        @ssize_t long copy_file_range(int fdIn, Pointer offIn, int fdOut, Pointer offOut, @size_t long len, int flags);

        int fstatfs(int fd, Pointer buf);

        int fchmodat(int dirfd, @In byte[] path, int mode, int flags);

        int fchownat(int dirfd, @In byte[] path, int uid, int gid, int flags);

        int utimensat(int dirfd, @In byte[] path, Pointer times, int flags);

        @ssize_t long readlinkat(int dirfd, @In byte[] path, long buf, @size_t long size);

        int fcntl(int fd, int cmd, Pointer flock);

        int flock(int fd, int operation);
    }

    private static final Libc LIBC = Native.loadLibc(Libc.class);
    private static final Runtime RT = Runtime.getRuntime(LIBC);

    /** Per-thread scratch native memory: iovecs (16 bytes each) and small structs; never shared. */
    private static final ThreadLocal<Pointer> SCRATCH =
            ThreadLocal.withInitial(() -> Memory.allocateDirect(RT, IOV_MAX * 16 + 512, true));
    private static final int STRUCT_AT = IOV_MAX * 16;
    private static final int LINK_AT = 256;
    private static final int PATH_MAX = 4096;
    /**
     * Per-thread native memory for the structs of statx and openat2 (at 0) and readlinkat's target
     * (at {@link #LINK_AT}), written and read with plain buffer loads and stores: a jnr Pointer
     * slice and its bounded accessors, or an {@code @Out byte[]} copied back whole, cost more than
     * the call on every lookup. Never shared between threads.
     */
    private static final ThreadLocal<ByteBuffer> OUT = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(LINK_AT + PATH_MAX).order(ByteOrder.nativeOrder()));

    private PosixFiles() {
    }

    /** statx(2) attributes we use. Times are nanoseconds since the epoch; rdev is major/minor. */
    public record Stat(long dev, long ino, int mode, int nlink, int uid, int gid, long size, long blocks,
                       int blksize, long atimeNs, long mtimeNs, long ctimeNs, int rdevMajor, int rdevMinor) {
        public boolean isDirectory() {
            return (mode & 0170000) == 0040000;
        }

        public boolean isRegular() {
            return (mode & 0170000) == 0100000;
        }

        public boolean isSymlink() {
            return (mode & 0170000) == 0120000;
        }
    }

    /** fstatfs(2) result. */
    public record FsStat(long type, long bsize, long blocks, long bfree, long bavail, long files, long ffree,
                         long namelen, long frsize) {
    }

    /** A POSIX lock as fcntl's struct flock carries it ({@code len} 0 = to end of file). */
    public record FlockInfo(int type, long start, long len, int pid) {
    }

    /** A NUL-terminated copy of a path component for the *at calls. */
    public static byte[] cstr(byte[] name) {
        byte[] c = new byte[name.length + 1];
        System.arraycopy(name, 0, c, 0, name.length);
        return c;
    }

    public static byte[] cstr(String s) {
        return cstr(s.getBytes(StandardCharsets.UTF_8));
    }

    private static FsException fail(String what) {
        return Native.failure(LIBC, what);
    }

    /** openat(2); {@code path} is NUL-terminated (see {@link #cstr}). Always adds O_CLOEXEC. */
    public static int openat(int dirfd, byte[] path, int flags, int mode) throws FsException {
        int fd = LIBC.openat(dirfd, path, flags | 02000000, mode);
        if (fd < 0) {
            throw fail("openat");
        }
        return fd;
    }

    /** openat2 RESOLVE_* bits. */
    public static final long RESOLVE_NO_XDEV = 0x01;
    public static final long RESOLVE_NO_MAGICLINKS = 0x02;
    public static final long RESOLVE_NO_SYMLINKS = 0x04;
    public static final long RESOLVE_BENEATH = 0x08;
    private static final long SYS_OPENAT2 = 437; // same number on every architecture

    /**
     * openat2(2): {@code path} resolved relative to {@code dirfd} under {@code resolve} rules (for a
     * jail: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS). Always adds O_CLOEXEC.
     */
    public static int openat2(int dirfd, byte[] path, int flags, int mode, long resolve) throws FsException {
        ByteBuffer b = OUT.get();
        // struct open_how: 0 flags u64 | 8 mode u64 | 16 resolve u64
        b.putLong(0, (flags | 02000000) & 0xffffffffL);
        b.putLong(8, mode);
        b.putLong(16, resolve);
        long fd = LIBC.syscall(SYS_OPENAT2, dirfd, path, DirectBuffers.address(b), 24);
        if (fd < 0) {
            throw fail("openat2");
        }
        return (int) fd;
    }

    /** close(2), ignoring errors: for fds whose close cannot report anything we care about. */
    public static void closeQuietly(int fd) {
        if (fd >= 0) {
            LIBC.close(fd);
        }
    }

    /** close(2) reporting its error (NFS and FUSE report deferred write errors here). */
    public static void close(int fd) throws FsException {
        if (LIBC.close(fd) < 0) {
            throw fail("close");
        }
    }

    public static int dup(int fd) throws FsException {
        int r = LIBC.dup(fd);
        if (r < 0) {
            throw fail("dup");
        }
        return r;
    }

    /** statx of the object {@code fd} refers to (AT_EMPTY_PATH), never following a symlink. */
    public static Stat fstat(int fd) throws FsException {
        return statx(fd, EMPTY, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    }

    /** statx(2) with STATX_BASIC_STATS; {@code path} NUL-terminated. */
    public static Stat statx(int dirfd, byte[] path, int flags) throws FsException {
        ByteBuffer b = OUT.get();
        // SAFETY: struct statx is 256 bytes, the buffer's first LINK_AT bytes.
        if (LIBC.statx(dirfd, path, flags, 0x7ff, DirectBuffers.address(b)) < 0) {
            throw fail("statx");
        }
        return new Stat(
                ((long) b.getInt(136) << 32) | (b.getInt(140) & 0xffffffffL),
                b.getLong(32), b.getShort(28) & 0xffff, b.getInt(16), b.getInt(20),
                b.getInt(24), b.getLong(40), b.getLong(48), b.getInt(4),
                ts(b, 64), ts(b, 112), ts(b, 96), b.getInt(128), b.getInt(132));
    }

    private static long ts(ByteBuffer b, int off) {
        return b.getLong(off) * 1_000_000_000L + (b.getInt(off + 8) & 0xffffffffL);
    }

    /**
     * preadv(2) straight into {@code bufs} (from their positions up to their limits) at {@code offset};
     * returns bytes read, 0 at EOF. Buffer positions are NOT moved: the caller advances its sink.
     * Direct buffers go through one preadv with no copy; a heap buffer (tests, odd transports) is read
     * with a plain pread into its array.
     */
    public static long preadv(int fd, ByteBuffer[] bufs, long offset) throws FsException {
        if (!allDirect(bufs)) {
            return heapIo(fd, bufs, offset, false);
        }
        int n = fillIov(bufs);
        long r = LIBC.preadv(fd, SCRATCH.get(), n, offset);
        if (r < 0) {
            throw fail("preadv");
        }
        return r;
    }

    /** pwritev(2) from {@code bufs} at {@code offset}; returns bytes written; positions not moved. */
    public static long pwritev(int fd, ByteBuffer[] bufs, long offset) throws FsException {
        if (!allDirect(bufs)) {
            return heapIo(fd, bufs, offset, true);
        }
        int n = fillIov(bufs);
        long r = LIBC.pwritev(fd, SCRATCH.get(), n, offset);
        if (r < 0) {
            throw fail("pwritev");
        }
        return r;
    }

    private static boolean allDirect(ByteBuffer[] bufs) {
        for (ByteBuffer b : bufs) {
            if (!b.isDirect()) {
                return false;
            }
        }
        return true;
    }

    private static int fillIov(ByteBuffer[] bufs) {
        long iov = SCRATCH.get().address();
        int n = Math.min(bufs.length, IOV_MAX);
        for (int i = 0; i < n; i++) {
            ByteBuffer b = bufs[i];
            // SAFETY: [address+position, address+limit) lies inside the direct buffer's own memory,
            // which the caller keeps reachable (it holds bufs) for the duration of the syscall; the
            // n iovecs fit the thread's scratch area (IOV_MAX * 16 bytes).
            DirectBuffers.putLong(iov + i * 16L, DirectBuffers.address(b) + b.position());
            DirectBuffers.putLong(iov + i * 16L + 8, b.remaining());
        }
        return n;
    }

    private static long heapIo(int fd, ByteBuffer[] bufs, long offset, boolean write) throws FsException {
        long total = 0;
        for (ByteBuffer b : bufs) {
            if (!b.hasRemaining()) {
                continue;
            }
            ByteBuffer view = b.slice();
            if (write && !view.hasArray()) {
                // A read-only heap buffer has no accessible array and jnr cannot marshal it: copy it.
                view = ByteBuffer.allocate(view.remaining()).put(view).flip();
            }
            long r = write ? LIBC.pwrite(fd, view, view.remaining(), offset + total)
                    : LIBC.pread(fd, view, view.remaining(), offset + total);
            if (r < 0) {
                if (total > 0) {
                    return total;
                }
                throw fail(write ? "pwrite" : "pread");
            }
            total += r;
            if (r < b.remaining()) {
                break;
            }
        }
        return total;
    }

    public static void ftruncate(int fd, long length) throws FsException {
        if (LIBC.ftruncate(fd, length) < 0) {
            throw fail("ftruncate");
        }
    }

    public static void fsync(int fd, boolean datasync) throws FsException {
        if ((datasync ? LIBC.fdatasync(fd) : LIBC.fsync(fd)) < 0) {
            throw fail(datasync ? "fdatasync" : "fsync");
        }
    }

    public static void syncfs(int fd) throws FsException {
        if (LIBC.syncfs(fd) < 0) {
            throw fail("syncfs");
        }
    }

    public static void fallocate(int fd, int mode, long offset, long len) throws FsException {
        if (LIBC.fallocate(fd, mode, offset, len) < 0) {
            throw fail("fallocate");
        }
    }

    public static long lseek(int fd, long offset, int whence) throws FsException {
        long r = LIBC.lseek(fd, offset, whence);
        if (r < 0) {
            throw fail("lseek");
        }
        return r;
    }

    /** copy_file_range(2) with explicit offsets; returns bytes copied, 0 at source EOF. */
    public static long copyFileRange(int fdIn, long offIn, int fdOut, long offOut, long len, int flags)
            throws FsException {
        Pointer p = SCRATCH.get();
        p.putLong(STRUCT_AT, offIn);
        p.putLong(STRUCT_AT + 8, offOut);
        long r = LIBC.copy_file_range(fdIn, p.slice(STRUCT_AT, 8), fdOut, p.slice(STRUCT_AT + 8, 8), len, flags);
        if (r < 0) {
            throw fail("copy_file_range");
        }
        return r;
    }

    /** fstatfs(2); works on O_PATH descriptors. */
    public static FsStat fstatfs(int fd) throws FsException {
        Pointer p = SCRATCH.get();
        // SAFETY: struct statfs is 120 bytes on 64-bit Linux; the scratch area has 512.
        if (LIBC.fstatfs(fd, p.slice(STRUCT_AT, 120)) < 0) {
            throw fail("fstatfs");
        }
        int b = STRUCT_AT;
        return new FsStat(p.getLong(b), p.getLong(b + 8), p.getLong(b + 16), p.getLong(b + 24), p.getLong(b + 32),
                p.getLong(b + 40), p.getLong(b + 48), p.getLong(b + 64), p.getLong(b + 72));
    }

    public static void fchmodat(int dirfd, byte[] path, int mode, int flags) throws FsException {
        if (LIBC.fchmodat(dirfd, path, mode, flags) < 0) {
            throw fail("fchmodat");
        }
    }

    /** fchownat(2) on the object {@code fd} refers to (AT_EMPTY_PATH, works on O_PATH fds); -1 = keep. */
    public static void fchown(int fd, int uid, int gid) throws FsException {
        if (LIBC.fchownat(fd, EMPTY, uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
            throw fail("fchownat");
        }
    }

    /**
     * utimensat(2) on the object {@code fd} refers to (AT_EMPTY_PATH). Each time is nanoseconds since
     * the epoch, or {@link #UTIME_NOW} / {@link #UTIME_OMIT} passed as the nanosecond field.
     */
    public static void futimens(int fd, long atimeNs, boolean atimeSpecial, long mtimeNs, boolean mtimeSpecial)
            throws FsException {
        Pointer p = SCRATCH.get();
        putTimespec(p, STRUCT_AT, atimeNs, atimeSpecial);
        putTimespec(p, STRUCT_AT + 16, mtimeNs, mtimeSpecial);
        if (LIBC.utimensat(fd, EMPTY, p.slice(STRUCT_AT, 32), AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
            throw fail("utimensat");
        }
    }

    private static void putTimespec(Pointer p, int off, long ns, boolean special) {
        if (special) {
            p.putLong(off, 0);
            p.putLong(off + 8, ns);
        } else {
            p.putLong(off, Math.floorDiv(ns, 1_000_000_000L));
            p.putLong(off + 8, Math.floorMod(ns, 1_000_000_000L));
        }
    }

    /** readlinkat(2); with an empty path it reads the symlink an O_PATH fd refers to. */
    public static byte[] readlinkat(int dirfd, byte[] path) throws FsException {
        ByteBuffer b = OUT.get();
        int n = readlinkInto(dirfd, path, b);
        byte[] out = new byte[n];
        b.get(LINK_AT, out, 0, n);
        return out;
    }

    /**
     * Whether the symlink {@code path} under {@code dirfd} points below directory {@code dir} (an
     * absolute path without a trailing slash): its target is {@code dir}, a slash, and more. Reads
     * the target into native memory and compares it there, allocating nothing.
     */
    public static boolean linkTargetIsBelow(int dirfd, byte[] path, byte[] dir) throws FsException {
        ByteBuffer b = OUT.get();
        int n = readlinkInto(dirfd, path, b);
        if (n <= dir.length || b.get(LINK_AT + dir.length) != '/') {
            return false;
        }
        for (int i = 0; i < dir.length; i++) {
            if (b.get(LINK_AT + i) != dir[i]) {
                return false;
            }
        }
        return true;
    }

    /** readlinkat into {@code b} at {@link #LINK_AT}; returns the length (a target of PATH_MAX or more is cut). */
    private static int readlinkInto(int dirfd, byte[] path, ByteBuffer b) throws FsException {
        long n = LIBC.readlinkat(dirfd, path, DirectBuffers.address(b) + LINK_AT, PATH_MAX);
        if (n < 0) {
            throw fail("readlinkat");
        }
        return (int) n;
    }

    /** readlinkat of the symlink {@code fd} refers to (an O_PATH fd of a symlink). */
    public static byte[] readlink(int fd) throws FsException {
        return readlinkat(fd, EMPTY);
    }

    /**
     * fcntl(2) with an OFD lock command ({@link #F_OFD_SETLK}, {@link #F_OFD_SETLKW},
     * {@link #F_OFD_GETLK}); returns the struct as the kernel left it (GETLK: the conflicting lock).
     */
    public static FlockInfo ofdLock(int fd, int cmd, int type, long start, long len) throws FsException {
        Pointer p = SCRATCH.get();
        // struct flock: 0 l_type s16 | 2 l_whence s16 | 8 l_start | 16 l_len | 24 l_pid s32 | 32 bytes
        p.setMemory(STRUCT_AT, 32, (byte) 0);
        p.putShort(STRUCT_AT, (short) type);
        p.putShort(STRUCT_AT + 2, (short) 0);
        p.putLong(STRUCT_AT + 8, start);
        p.putLong(STRUCT_AT + 16, len);
        p.putInt(STRUCT_AT + 24, 0); // OFD locks require l_pid == 0
        if (LIBC.fcntl(fd, cmd, p.slice(STRUCT_AT, 32)) < 0) {
            throw fail("fcntl(OFD lock)");
        }
        return new FlockInfo(p.getShort(STRUCT_AT), p.getLong(STRUCT_AT + 8), p.getLong(STRUCT_AT + 16),
                p.getInt(STRUCT_AT + 24));
    }

    public static void flock(int fd, int operation) throws FsException {
        if (LIBC.flock(fd, operation) < 0) {
            throw fail("flock");
        }
    }

}
