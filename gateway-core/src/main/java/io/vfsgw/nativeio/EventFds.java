package io.vfsgw.nativeio;

import com.kenai.jffi.MemoryIO;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * eventfd(2) counters (virtqueue kick and call notifications) and poll(2) on two of them, so a
 * queue thread can wait for "guest kicked" or "we asked you to stop" without a busy loop.
 */
public final class EventFds {
    private static final int EFD_CLOEXEC = 0x80000;
    private static final int EFD_NONBLOCK = 0x800;
    private static final short POLLIN = 1;

    /** The libc symbols this family uses; public only because jnr-ffi generates its implementation. */
    public interface Libc {
        int eventfd(int initval, int flags);

        @ssize_t long read(int fd, long buf, @size_t long count);

        @ssize_t long write(int fd, long buf, @size_t long count);

        int poll(long fds, long nfds, int timeout);

        int close(int fd);
    }

    private static final Libc LIBC = Native.loadLibc(Libc.class);
    private static final MemoryIO IO = MemoryIO.getInstance();
    private static final ThreadLocal<ByteBuffer> SCRATCH =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()));

    private EventFds() {
    }

    /** A new eventfd with counter 0 (close-on-exec; non-blocking reads when asked). */
    public static int create(boolean nonBlocking) throws FsException {
        int fd = LIBC.eventfd(0, EFD_CLOEXEC | (nonBlocking ? EFD_NONBLOCK : 0));
        if (fd < 0) {
            throw Native.failure(LIBC, "eventfd");
        }
        return fd;
    }

    /** Adds 1 to the counter, waking a reader or poller. */
    public static void signal(int fd) throws FsException {
        ByteBuffer b = SCRATCH.get();
        b.putLong(0, 1L);
        long addr = IO.getDirectBufferAddress(b);
        long n;
        while ((n = LIBC.write(fd, addr, 8)) != 8) {
            if (n >= 0) {
                throw FsException.of(Errno.EIO, "short write of " + n + " bytes: fd " + fd + " is not an eventfd");
            }
            int e = Native.lastErrno(LIBC);
            if (e == Errno.EAGAIN.code()) {
                return; // counter saturated: the reader is already due to wake
            }
            if (e != Errno.EINTR.code()) {
                throw Native.failure(LIBC, "eventfd write");
            }
        }
    }

    /** Reads and resets the counter; blocks on a blocking fd, returns 0 on a non-blocking fd at 0. */
    public static long read(int fd) throws FsException {
        ByteBuffer b = SCRATCH.get();
        long addr = IO.getDirectBufferAddress(b);
        long n;
        while ((n = LIBC.read(fd, addr, 8)) != 8) {
            if (n >= 0) {
                // A pipe or socket passed off as an eventfd: fail rather than spin on its hang-up.
                throw FsException.of(Errno.EIO, "short read of " + n + " bytes: fd " + fd + " is not an eventfd");
            }
            int e = Native.lastErrno(LIBC);
            if (e == Errno.EAGAIN.code()) {
                return 0;
            }
            if (e != Errno.EINTR.code()) {
                throw Native.failure(LIBC, "eventfd read");
            }
        }
        return b.getLong(0);
    }

    /**
     * Waits until {@code a} or {@code b} is readable (or the timeout passes; -1 waits forever).
     * Returns a bit set: 1 when {@code a} is ready, 2 when {@code b} is; 0 on timeout. An error
     * or hang-up on a descriptor counts as ready so the caller's read reports it.
     */
    public static int awaitReadable(int a, int b, int timeoutMillis) throws FsException {
        ByteBuffer s = SCRATCH.get();
        // struct pollfd { int fd; short events; short revents; } x 2
        s.putInt(0, a);
        s.putShort(4, POLLIN);
        s.putShort(6, (short) 0);
        s.putInt(8, b);
        s.putShort(12, POLLIN);
        s.putShort(14, (short) 0);
        long addr = IO.getDirectBufferAddress(s);
        while (true) {
            int n = LIBC.poll(addr, 2, timeoutMillis);
            if (n >= 0) {
                return (s.getShort(6) != 0 ? 1 : 0) | (s.getShort(14) != 0 ? 2 : 0);
            }
            if (Native.lastErrno(LIBC) != Errno.EINTR.code()) {
                throw Native.failure(LIBC, "poll");
            }
        }
    }

    public static void close(int fd) {
        if (fd >= 0) {
            LIBC.close(fd);
        }
    }
}
