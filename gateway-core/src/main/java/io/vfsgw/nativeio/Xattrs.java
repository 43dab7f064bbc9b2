package io.vfsgw.nativeio;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * Extended attributes by path (getxattr, not lgetxattr). A passthrough backend calls them on
 * "/proc/self/fd/N" of an O_PATH fd: following that magic link lands on exactly the fd's object and
 * stops there (an O_PATH fd of a symlink gives the symlink itself, not its target), with no open(2)
 * of FIFOs or devices; lgetxattr would act on the proc link instead. Host errnos pass through.
 */
public final class Xattrs {
    public static final int XATTR_CREATE = 1;
    public static final int XATTR_REPLACE = 2;

    /** jnr-ffi binding; public only because jnr generates its implementation in another class loader. */
    public interface Libc {
        @ssize_t long getxattr(@In byte[] path, @In byte[] name, @Out byte[] value, @size_t long size);

        int setxattr(@In byte[] path, @In byte[] name, @In byte[] value, @size_t long size, int flags);

        @ssize_t long listxattr(@In byte[] path, @Out byte[] list, @size_t long size);

        int removexattr(@In byte[] path, @In byte[] name);
    }

    private static final Libc LIBC = Native.loadLibc(Libc.class);
    /** The largest value or list Linux allows (XATTR_SIZE_MAX / XATTR_LIST_MAX). */
    private static final int MAX = 65536;

    private Xattrs() {
    }

    /** getxattr(2) following the path (use it on /proc/self/fd/N, which lands on the fd's object). */
    public static byte[] get(String path, String name) throws FsException {
        byte[] p = PosixFiles.cstr(path);
        byte[] n = PosixFiles.cstr(name);
        for (int attempt = 0; ; attempt++) {
            long size = LIBC.getxattr(p, n, null, 0);
            if (size < 0) {
                throw Native.failure(LIBC, "getxattr");
            }
            byte[] buf = new byte[(int) Math.min(size, MAX)];
            long r = LIBC.getxattr(p, n, buf, buf.length);
            if (r >= 0) {
                return r == buf.length ? buf : java.util.Arrays.copyOf(buf, (int) r);
            }
            // ERANGE: the value grew between the two calls; ask again (bounded, values cap at 64 KiB).
            if (Native.lastErrno(LIBC) != Errno.ERANGE.code() || attempt > 3) {
                throw Native.failure(LIBC, "getxattr");
            }
        }
    }

    public static void set(String path, String name, byte[] value, int flags) throws FsException {
        if (LIBC.setxattr(PosixFiles.cstr(path), PosixFiles.cstr(name), value, value.length, flags) < 0) {
            throw Native.failure(LIBC, "setxattr");
        }
    }

    public static List<String> list(String path) throws FsException {
        byte[] p = PosixFiles.cstr(path);
        for (int attempt = 0; ; attempt++) {
            long size = LIBC.listxattr(p, null, 0);
            if (size < 0) {
                throw Native.failure(LIBC, "listxattr");
            }
            byte[] buf = new byte[(int) Math.min(Math.max(size, 1), MAX)];
            long r = LIBC.listxattr(p, buf, buf.length);
            if (r >= 0) {
                List<String> names = new ArrayList<>();
                int start = 0;
                for (int i = 0; i < r; i++) {
                    if (buf[i] == 0) {
                        if (i > start) {
                            names.add(new String(buf, start, i - start, java.nio.charset.StandardCharsets.UTF_8));
                        }
                        start = i + 1;
                    }
                }
                return names;
            }
            if (Native.lastErrno(LIBC) != Errno.ERANGE.code() || attempt > 3) {
                throw Native.failure(LIBC, "listxattr");
            }
        }
    }

    public static void remove(String path, String name) throws FsException {
        if (LIBC.removexattr(PosixFiles.cstr(path), PosixFiles.cstr(name)) < 0) {
            throw Native.failure(LIBC, "removexattr");
        }
    }
}
