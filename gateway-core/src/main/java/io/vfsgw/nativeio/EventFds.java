package io.vfsgw.nativeio;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * eventfd(2) counters (virtqueue kick and call notifications) and waits on two of them, so a
 * queue thread can wait for "guest kicked" or "we asked you to stop" without a busy loop: poll(2)
 * for one waiter, or an epoll set per thread with EPOLLEXCLUSIVE when several threads wait on the
 * same pair and one of them should wake per signal (edge-triggered: those waiters never read the
 * counters).
 */
public final class EventFds {
    private static final int EFD_CLOEXEC = 0x80000;
    private static final int EFD_NONBLOCK = 0x800;
    private static final short POLLIN = 1;
    private static final int EPOLL_CLOEXEC = 0x80000;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLLIN = 1;
    private static final int EPOLLEXCLUSIVE = 1 << 28;
    private static final int EPOLLET = 1 << 31;
    private static final byte[] EVENTFD_LINK = "anon_inode:[eventfd]".getBytes(StandardCharsets.US_ASCII);
    /** struct epoll_event is packed (12 bytes) on x86; elsewhere its 64-bit data is aligned (16). */
    private static final int EVENT_SIZE = System.getProperty("os.arch").matches("amd64|x86_64|i386|x86") ? 12 : 16;
    private static final int EVENT_DATA = EVENT_SIZE - 8;

    /** The libc symbols this family uses; public only because jnr-ffi generates its implementation. */
    public interface Libc {
        int eventfd(int initval, int flags);

        @ssize_t long read(int fd, long buf, @size_t long count);

        @ssize_t long write(int fd, long buf, @size_t long count);

        int poll(long fds, long nfds, int timeout);

        int epoll_create1(int flags);

        int epoll_ctl(int epfd, int op, int fd, long event);

        int epoll_wait(int epfd, long events, int maxevents, int timeout);

        int close(int fd);
    }

    private static final Libc LIBC = Native.loadLibc(Libc.class);
    private static final ThreadLocal<ByteBuffer> SCRATCH =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(2 * 16).order(ByteOrder.nativeOrder()));
    /**
     * The 8 bytes every signal writes (the value 1), shared by all threads: the kernel only reads
     * them. A signal runs on every request; a ThreadLocal lookup is a native call under C1.
     */
    private static final ByteBuffer ONE = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()).putLong(0, 1L);

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
        long n;
        while ((n = LIBC.write(fd, DirectBuffers.address(ONE), 8)) != 8) {
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
        return readInto(fd, b) ? b.getLong(0) : 0;
    }

    private static boolean readInto(int fd, ByteBuffer b) throws FsException {
        long n;
        while ((n = LIBC.read(fd, DirectBuffers.address(b), 8)) != 8) {
            if (n >= 0) {
                // A pipe or socket passed off as an eventfd: fail rather than spin on its hang-up.
                throw FsException.of(Errno.EIO, "short read of " + n + " bytes: fd " + fd + " is not an eventfd");
            }
            int e = Native.lastErrno(LIBC);
            if (e == Errno.EAGAIN.code()) {
                return false;
            }
            if (e != Errno.EINTR.code()) {
                throw Native.failure(LIBC, "eventfd read");
            }
        }
        return true;
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
        while (true) {
            int n = LIBC.poll(DirectBuffers.address(s), 2, timeoutMillis);
            if (n >= 0) {
                return (s.getShort(6) != 0 ? 1 : 0) | (s.getShort(14) != 0 ? 2 : 0);
            }
            if (Native.lastErrno(LIBC) != Errno.EINTR.code()) {
                throw Native.failure(LIBC, "poll");
            }
        }
    }

    /**
     * A new epoll set (close it with {@link #close}) watching the eventfds {@code a} and {@code b}
     * for input with EPOLLEXCLUSIVE: of all the threads waiting in such sets on the same fd, a
     * signal wakes one (or a few), where poll(2) would wake them all. Wait on it with
     * {@link #awaitExclusive}.
     *
     * <p>Edge-triggered: each signal is reported once, so the waiter never reads the counters,
     * which saves a syscall on every wake-up (a queue thread's, once per request). The counters
     * just grow; 2^64 signals are out of reach. A set whose thread was busy when a signal came
     * reports it at the next wait although another thread took the work: the waiter must look at
     * its work before waiting, and may find none after waking. Only eventfds are accepted: the
     * waits never read, so a socket or pipe passed off as an eventfd would go unnoticed.
     */
    public static int exclusiveWaiter(int a, int b) throws FsException {
        requireEventfd(a);
        requireEventfd(b);
        int ep = LIBC.epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0) {
            throw Native.failure(LIBC, "epoll_create1");
        }
        try {
            add(ep, a, 1);
            add(ep, b, 2);
        } catch (FsException e) {
            LIBC.close(ep);
            throw e;
        }
        return ep;
    }

    /** EINVAL unless {@code fd} is an eventfd (what /proc/self/fd says it is). */
    static void requireEventfd(int fd) throws FsException {
        byte[] link;
        try {
            link = PosixFiles.readlinkat(PosixFiles.AT_FDCWD, PosixFiles.cstr("/proc/self/fd/" + fd));
        } catch (FsException e) {
            throw FsException.of(Errno.EINVAL, "fd " + fd + " is not an open file: " + e.getMessage());
        }
        if (!Arrays.equals(link, EVENTFD_LINK)) {
            throw FsException.of(Errno.EINVAL, "fd " + fd + " is not an eventfd (it is "
                    + new String(link, StandardCharsets.UTF_8) + ")");
        }
    }

    private static void add(int ep, int fd, long tag) throws FsException {
        ByteBuffer s = SCRATCH.get();
        s.putInt(0, EPOLLIN | EPOLLEXCLUSIVE | EPOLLET);
        s.putLong(EVENT_DATA, tag);
        if (LIBC.epoll_ctl(ep, EPOLL_CTL_ADD, fd, DirectBuffers.address(s)) != 0) {
            throw Native.failure(LIBC, "epoll_ctl(ADD, fd " + fd + ")");
        }
    }

    /**
     * Waits on a set made by {@link #exclusiveWaiter} until one of its fds is signalled; returns the
     * same bit set as {@link #awaitReadable} (1: the first fd, 2: the second). Each signal is
     * reported once (see exclusiveWaiter). {@code events} is the calling thread's own
     * {@link #eventBuffer()}.
     */
    public static int awaitExclusive(int waiter, ByteBuffer events) throws FsException {
        return awaitExclusive(waiter, events, -1);
    }

    /** {@link #awaitExclusive(int, ByteBuffer)} for at most {@code timeoutMillis} (-1: forever); 0 on timeout. */
    public static int awaitExclusive(int waiter, ByteBuffer events, int timeoutMillis) throws FsException {
        ByteBuffer s = events;
        long addr = DirectBuffers.address(s);
        while (true) {
            int n = LIBC.epoll_wait(waiter, addr, 2, timeoutMillis);
            if (n >= 0) {
                int ready = 0;
                for (int i = 0; i < n; i++) {
                    ready |= (int) s.getLong(i * EVENT_SIZE + EVENT_DATA);
                }
                return ready;
            }
            if (Native.lastErrno(LIBC) != Errno.EINTR.code()) {
                throw Native.failure(LIBC, "epoll_wait");
            }
        }
    }

    /** Room for the events {@link #awaitExclusive} receives; one per waiting thread. */
    public static ByteBuffer eventBuffer() {
        return ByteBuffer.allocateDirect(2 * EVENT_SIZE + 8).order(ByteOrder.nativeOrder());
    }

    public static void close(int fd) {
        if (fd >= 0) {
            LIBC.close(fd);
        }
    }
}
