package io.vfsgw.testing;

import io.vfsgw.nativeio.Native;

/** Sets a descriptor's file status flags in tests, to hand the code under test an fd as a parent process would. */
public final class FdFlags {
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int O_NONBLOCK = 0x800;

    /** fcntl(2) with an int argument; public only because jnr-ffi generates its implementation. */
    public interface Libc {
        int fcntl(int fd, int cmd, int arg);
    }

    private static final Libc LIBC = Native.loadLibc(Libc.class);

    private FdFlags() {
    }

    /** Turns O_NONBLOCK on, as libvirt does to the listening socket it passes to a virtiofsd. */
    public static void setNonBlocking(int fd) {
        int flags = LIBC.fcntl(fd, F_GETFL, 0);
        if (flags < 0 || LIBC.fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
            throw new IllegalStateException("fcntl(" + fd + ") failed");
        }
    }

    public static boolean isNonBlocking(int fd) {
        return (LIBC.fcntl(fd, F_GETFL, 0) & O_NONBLOCK) != 0;
    }
}
