package io.vfsgw.nativeio;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.ssize_t;

/**
 * AF_UNIX stream sockets with file-descriptor passing (SCM_RIGHTS), which Java 17 cannot do.
 *
 * <p>File descriptors are plain ints owned by the caller; every method that fails throws an
 * {@link FsException} carrying the exact errno (EAGAIN, EPIPE, ECONNRESET matter to callers).
 * Buffers handed to {@link #recvmsg} and {@link #sendmsg} must be direct: the kernel reads and
 * writes them in place.
 */
public final class UnixSockets {
    /** Most descriptors one message may carry (vhost-user: 8 memory regions). */
    public static final int MAX_FDS = 8;

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int SHUT_RDWR = 2;
    private static final int SUN_PATH_MAX = 108;
    private static final int SO_TYPE = 3;
    private static final int SO_ACCEPTCONN = 30;
    private static final int SO_DOMAIN = 39;
    private static final int F_GETFD = 1;
    private static final int F_SETFD = 2;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int FD_CLOEXEC = 1;
    private static final int O_NONBLOCK = 0x800;

    // x86_64 / aarch64 LP64 layouts:
    // struct msghdr { void *name 0; u32 namelen 8; struct iovec *iov 16; size_t iovlen 24;
    //                 void *control 32; size_t controllen 40; int flags 48 } = 56 bytes
    // struct iovec { void *base 0; size_t len 8 } = 16 bytes
    // struct cmsghdr { size_t len 0; int level 8; int type 12; data 16 } ; CMSG_SPACE(32) = 48
    private static final int MSGHDR = 0;
    private static final int IOV = 64;
    private static final int CMSG = 80;
    private static final int CMSG_DATA = 16;
    private static final int CMSG_SPACE_MAX = CMSG_DATA + 4 * MAX_FDS;
    private static final int SCRATCH = CMSG + CMSG_SPACE_MAX;

    /** The libc symbols this family uses; public only because jnr-ffi generates its implementation. */
    public interface Libc {
        int socket(int domain, int type, int protocol);

        int socketpair(int domain, int type, int protocol, @Out int[] sv);

        int bind(int fd, long addr, int len);

        int connect(int fd, long addr, int len);

        int listen(int fd, int backlog);

        int accept4(int fd, long addr, long addrlen, int flags);

        @ssize_t long recvmsg(int fd, long msg, int flags);

        @ssize_t long sendmsg(int fd, long msg, int flags);

        int shutdown(int fd, int how);

        int getsockopt(int fd, int level, int optname, @Out int[] optval, int[] optlen);

        int getsockname(int fd, long addr, int[] addrlen);

        int fcntl(int fd, int cmd, int arg);

        int close(int fd);
    }

    private static final Libc LIBC = Native.loadLibc(Libc.class);
    private static final ThreadLocal<ByteBuffer> SCRATCH_BUF =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(SCRATCH).order(ByteOrder.nativeOrder()));

    private UnixSockets() {
    }

    /** What one {@link #recvmsg} delivered: byte count (0 at end of stream) and the fds that came with it. */
    public record Received(int bytes, int[] fds, boolean controlTruncated) {
    }

    /** A new, unbound AF_UNIX stream socket (close-on-exec). */
    public static int socket() throws FsException {
        int fd = LIBC.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw Native.failure(LIBC, "socket(AF_UNIX)");
        }
        return fd;
    }

    /** A connected pair of AF_UNIX stream sockets. */
    public static int[] socketpair() throws FsException {
        int[] sv = new int[2];
        if (LIBC.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
            throw Native.failure(LIBC, "socketpair(AF_UNIX)");
        }
        return sv;
    }

    /** Binds {@code fd} to a filesystem path (which must not exist yet). */
    public static void bind(int fd, Path path) throws FsException {
        ByteBuffer addr = sockaddr(path);
        if (LIBC.bind(fd, DirectBuffers.address(addr), addr.capacity()) != 0) {
            throw Native.failure(LIBC, "bind(" + path + ")");
        }
    }

    /** Connects {@code fd} to the socket at {@code path}. */
    public static void connect(int fd, Path path) throws FsException {
        ByteBuffer addr = sockaddr(path);
        while (LIBC.connect(fd, DirectBuffers.address(addr), addr.capacity()) != 0) {
            if (Native.lastErrno(LIBC) != Errno.EINTR.code()) {
                throw Native.failure(LIBC, "connect(" + path + ")");
            }
        }
    }

    public static void listen(int fd, int backlog) throws FsException {
        if (LIBC.listen(fd, backlog) != 0) {
            throw Native.failure(LIBC, "listen");
        }
    }

    /**
     * Takes over a listening socket this process inherited (a parent such as libvirt bound it and
     * passed its fd): checks that {@code fd} is an AF_UNIX stream socket in the listening state,
     * makes it blocking (libvirt hands its fds over non-blocking, which would make {@link #accept}
     * fail at once) and close-on-exec. Returns the path it is bound to, or empty for an abstract or
     * unnamed socket.
     *
     * @throws FsException EBADF for an fd that is not open, ENOTSOCK for one that is not a socket,
     *                     EINVAL for a socket of another kind or one that is not listening
     */
    public static Optional<Path> adoptListening(int fd) throws FsException {
        int flags = LIBC.fcntl(fd, F_GETFL, 0);
        if (flags < 0) {
            throw Native.failure(LIBC, "fcntl(" + fd + ")");
        }
        if (intOption(fd, SO_DOMAIN) != AF_UNIX || intOption(fd, SO_TYPE) != SOCK_STREAM) {
            throw FsException.of(Errno.EINVAL, "fd " + fd + " is not a Unix stream socket");
        }
        if (intOption(fd, SO_ACCEPTCONN) == 0) {
            throw FsException.of(Errno.EINVAL, "fd " + fd + " is a socket that is not listening");
        }
        if ((flags & O_NONBLOCK) != 0 && LIBC.fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
            throw Native.failure(LIBC, "fcntl(" + fd + ", F_SETFL)");
        }
        int fdFlags = LIBC.fcntl(fd, F_GETFD, 0);
        if (fdFlags < 0 || LIBC.fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC) != 0) {
            throw Native.failure(LIBC, "fcntl(" + fd + ", F_SETFD)");
        }
        return boundPath(fd);
    }

    private static int intOption(int fd, int option) throws FsException {
        int[] value = new int[1];
        int[] len = {4};
        if (LIBC.getsockopt(fd, SOL_SOCKET, option, value, len) != 0) {
            throw Native.failure(LIBC, "getsockopt(" + fd + ")");
        }
        return value[0];
    }

    /** The filesystem path {@code fd} is bound to; empty for an unnamed or abstract socket. */
    private static Optional<Path> boundPath(int fd) throws FsException {
        ByteBuffer addr = ByteBuffer.allocateDirect(2 + SUN_PATH_MAX);
        int[] len = {addr.capacity()};
        if (LIBC.getsockname(fd, DirectBuffers.address(addr), len) != 0) {
            throw Native.failure(LIBC, "getsockname(" + fd + ")");
        }
        int n = Math.min(len[0], addr.capacity()) - 2;
        if (n <= 0 || addr.get(2) == 0) {
            return Optional.empty();
        }
        byte[] path = new byte[n];
        addr.position(2);
        addr.get(path);
        int end = 0;
        while (end < n && path[end] != 0) {
            end++;
        }
        return Optional.of(Path.of(new String(path, 0, end, StandardCharsets.UTF_8)));
    }

    /**
     * Waits for the next connection and returns its fd (close-on-exec). A {@link #shutdown} of the
     * listening socket from another thread makes this throw EINVAL, which is how a server stops.
     */
    public static int accept(int fd) throws FsException {
        while (true) {
            int c = LIBC.accept4(fd, 0L, 0L, SOCK_CLOEXEC);
            if (c >= 0) {
                return c;
            }
            if (Native.lastErrno(LIBC) != Errno.EINTR.code()) {
                throw Native.failure(LIBC, "accept");
            }
        }
    }

    /**
     * One recvmsg(2) into {@code dst} between its position and limit; the position advances by the
     * bytes received. Descriptors beyond {@link #MAX_FDS} are closed by the kernel and reported as
     * {@code controlTruncated}. Received fds are close-on-exec and owned by the caller.
     */
    public static Received recvmsg(int fd, ByteBuffer dst) throws FsException {
        requireDirect(dst);
        ByteBuffer s = scratch();
        long base = DirectBuffers.address(s);
        // SAFETY: the iovec covers exactly [position, limit) of a direct buffer we hold a reference to.
        s.putLong(IOV, DirectBuffers.address(dst) + dst.position());
        s.putLong(IOV + 8, dst.remaining());
        s.putLong(MSGHDR + 16, base + IOV);
        s.putLong(MSGHDR + 24, 1);
        s.putLong(MSGHDR + 32, base + CMSG);
        s.putLong(MSGHDR + 40, CMSG_SPACE_MAX);
        long n;
        while ((n = LIBC.recvmsg(fd, base + MSGHDR, MSG_CMSG_CLOEXEC)) < 0) {
            if (Native.lastErrno(LIBC) != Errno.EINTR.code()) {
                throw Native.failure(LIBC, "recvmsg");
            }
        }
        dst.position(dst.position() + (int) n);
        int[] fds = new int[0];
        long controlLen = s.getLong(MSGHDR + 40);
        if (controlLen >= CMSG_DATA) {
            long cmsgLen = s.getLong(CMSG);
            if (s.getInt(CMSG + 8) == SOL_SOCKET && s.getInt(CMSG + 12) == SCM_RIGHTS
                    && cmsgLen >= CMSG_DATA && cmsgLen <= CMSG_SPACE_MAX) {
                fds = new int[(int) (cmsgLen - CMSG_DATA) / 4];
                for (int i = 0; i < fds.length; i++) {
                    fds[i] = s.getInt(CMSG + CMSG_DATA + 4 * i);
                }
            }
        }
        boolean truncated = (s.getInt(MSGHDR + 48) & MSG_CTRUNC) != 0;
        return new Received((int) n, fds, truncated);
    }

    /**
     * Sends all of {@code src} (position to limit), with {@code fds} attached to the first byte.
     * Never raises SIGPIPE: a closed peer is an EPIPE FsException.
     */
    public static void sendmsg(int fd, ByteBuffer src, int... fds) throws FsException {
        requireDirect(src);
        if (fds.length > MAX_FDS) {
            throw new IllegalArgumentException("at most " + MAX_FDS + " fds per message");
        }
        ByteBuffer s = scratch();
        long base = DirectBuffers.address(s);
        boolean first = true;
        do {
            s.putLong(IOV, DirectBuffers.address(src) + src.position());
            s.putLong(IOV + 8, src.remaining());
            s.putLong(MSGHDR + 16, base + IOV);
            s.putLong(MSGHDR + 24, 1);
            if (first && fds.length > 0) {
                s.putLong(CMSG, CMSG_DATA + 4L * fds.length);
                s.putInt(CMSG + 8, SOL_SOCKET);
                s.putInt(CMSG + 12, SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    s.putInt(CMSG + CMSG_DATA + 4 * i, fds[i]);
                }
                s.putLong(MSGHDR + 32, base + CMSG);
                s.putLong(MSGHDR + 40, CMSG_DATA + ((4L * fds.length + 7) & ~7L));
            }
            long n = LIBC.sendmsg(fd, base + MSGHDR, MSG_NOSIGNAL);
            if (n < 0) {
                if (Native.lastErrno(LIBC) == Errno.EINTR.code()) {
                    continue;
                }
                throw Native.failure(LIBC, "sendmsg");
            }
            first = false;
            s.putLong(MSGHDR + 32, 0);
            s.putLong(MSGHDR + 40, 0);
            src.position(src.position() + (int) n);
        } while (src.hasRemaining());
    }

    /** Shuts both directions: wakes a thread blocked in accept or recvmsg on {@code fd}. */
    public static void shutdown(int fd) {
        LIBC.shutdown(fd, SHUT_RDWR);
    }

    /** close(2); errors are ignored (Linux closes the fd even when close reports EINTR). */
    public static void close(int fd) {
        if (fd >= 0) {
            LIBC.close(fd);
        }
    }

    private static ByteBuffer scratch() {
        ByteBuffer s = SCRATCH_BUF.get();
        for (int i = 0; i < SCRATCH; i += 8) {
            s.putLong(i, 0);
        }
        return s;
    }

    private static ByteBuffer sockaddr(Path path) throws FsException {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        if (p.length >= SUN_PATH_MAX) {
            throw FsException.of(Errno.ENAMETOOLONG, "socket path longer than 107 bytes: " + path);
        }
        // struct sockaddr_un { sa_family_t sun_family (u16); char sun_path[108]; }
        ByteBuffer a = ByteBuffer.allocateDirect(2 + SUN_PATH_MAX).order(ByteOrder.nativeOrder());
        a.putShort(0, (short) AF_UNIX);
        a.position(2);
        a.put(p);
        a.clear();
        return a;
    }

    private static void requireDirect(ByteBuffer b) {
        if (!b.isDirect()) {
            throw new IllegalArgumentException("buffer must be direct");
        }
    }
}
