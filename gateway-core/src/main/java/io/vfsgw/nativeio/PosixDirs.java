package io.vfsgw.nativeio;

import io.vfsgw.spi.FsException;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * Directory-entry syscalls, all relative to a directory fd: mkdirat, mknodat, symlinkat, linkat,
 * unlinkat, renameat2, and raw getdents64 (so readdir cookies are the filesystem's own d_off).
 * Names are NUL-terminated byte arrays ({@link PosixFiles#cstr}); failures carry the host errno.
 */
public final class PosixDirs {
    public static final int RENAME_NOREPLACE = 1;
    public static final int RENAME_EXCHANGE = 2;

    /** jnr-ffi binding; public only because jnr generates its implementation in another class loader. */
    public interface Libc {
        int mkdirat(int dirfd, @In byte[] path, int mode);

        int mknodat(int dirfd, @In byte[] path, int mode, long dev);

        int symlinkat(@In byte[] target, int newdirfd, @In byte[] linkpath);

        int linkat(int olddirfd, @In byte[] oldpath, int newdirfd, @In byte[] newpath, int flags);

        int unlinkat(int dirfd, @In byte[] path, int flags);

        int renameat2(int olddirfd, @In byte[] oldpath, int newdirfd, @In byte[] newpath, int flags);

        @ssize_t long getdents64(int fd, Pointer dirp, @size_t long count);

        @off_t long lseek(int fd, @off_t long offset, int whence);
    }

    private static final Libc LIBC = Native.loadLibc(Libc.class);
    private static final Runtime RT = Runtime.getRuntime(LIBC);

    private PosixDirs() {
    }

    /** One raw directory entry: the name's bytes, d_ino, DT_* type and d_off (the cookie after it). */
    public record Dirent(byte[] name, long ino, int type, long nextOffset) {
    }

    /** A reusable native buffer for {@link #getdents}; a call uses it only while it runs. */
    public static final class DirBuffer {
        final Pointer mem;
        final int size;

        public DirBuffer(int size) {
            this.size = size;
            this.mem = Memory.allocateDirect(RT, size, true);
        }
    }

    /** Receives entries from {@link #getdents}; returns false to stop (the entry was not taken). */
    @FunctionalInterface
    public interface DirentConsumer {
        boolean accept(Dirent d) throws FsException;
    }

    public static void mkdirat(int dirfd, byte[] name, int mode) throws FsException {
        if (LIBC.mkdirat(dirfd, name, mode) < 0) {
            throw Native.failure(LIBC, "mkdirat");
        }
    }

    /** mknodat(2); {@code major}/{@code minor} encoded with glibc's makedev. */
    public static void mknodat(int dirfd, byte[] name, int mode, int major, int minor) throws FsException {
        long dev = ((major & 0xfffL) << 8) | ((major & ~0xfffL & 0xffffffffL) << 32)
                | (minor & 0xffL) | ((minor & ~0xffL & 0xffffffffL) << 12);
        if (LIBC.mknodat(dirfd, name, mode, dev) < 0) {
            throw Native.failure(LIBC, "mknodat");
        }
    }

    public static void symlinkat(byte[] target, int dirfd, byte[] name) throws FsException {
        if (LIBC.symlinkat(target, dirfd, name) < 0) {
            throw Native.failure(LIBC, "symlinkat");
        }
    }

    public static void linkat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newname, int flags)
            throws FsException {
        if (LIBC.linkat(olddirfd, oldpath, newdirfd, newname, flags) < 0) {
            throw Native.failure(LIBC, "linkat");
        }
    }

    /** unlinkat(2); flags 0 or {@link PosixFiles#AT_REMOVEDIR}. */
    public static void unlinkat(int dirfd, byte[] name, int flags) throws FsException {
        if (LIBC.unlinkat(dirfd, name, flags) < 0) {
            throw Native.failure(LIBC, "unlinkat");
        }
    }

    public static void renameat2(int olddirfd, byte[] oldname, int newdirfd, byte[] newname, int flags)
            throws FsException {
        if (LIBC.renameat2(olddirfd, oldname, newdirfd, newname, flags) < 0) {
            throw Native.failure(LIBC, "renameat2");
        }
    }

    /**
     * Positions directory fd {@code fd} at {@code cookie} (0 or a d_off seen before) and feeds entries
     * to {@code out} until it refuses one or the directory ends. Returns true at end of directory.
     * The caller serialises calls per fd (the file position is shared).
     */
    public static boolean getdents(int fd, long cookie, DirBuffer buf, DirentConsumer out) throws FsException {
        if (LIBC.lseek(fd, cookie, 0) < 0) {
            throw Native.failure(LIBC, "lseek(dir)");
        }
        while (true) {
            // SAFETY: the kernel writes at most buf.size bytes into buf.mem, which is that large.
            long n = LIBC.getdents64(fd, buf.mem, buf.size);
            if (n < 0) {
                throw Native.failure(LIBC, "getdents64");
            }
            if (n == 0) {
                return true;
            }
            // struct linux_dirent64: 0 d_ino u64 | 8 d_off s64 | 16 d_reclen u16 | 18 d_type u8 | 19 d_name
            int p = 0;
            while (p < n) {
                long ino = buf.mem.getLong(p);
                long off = buf.mem.getLong(p + 8);
                int reclen = buf.mem.getShort(p + 16) & 0xffff;
                int type = buf.mem.getByte(p + 18) & 0xff;
                int len = 0;
                while (p + 19 + len < p + reclen && buf.mem.getByte(p + 19 + len) != 0) {
                    len++;
                }
                byte[] name = new byte[len];
                buf.mem.get(p + 19, name, 0, len);
                if (!out.accept(new Dirent(name, ino, type, off))) {
                    return false;
                }
                p += reclen;
            }
        }
    }
}
