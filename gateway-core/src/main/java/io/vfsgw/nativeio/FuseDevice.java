package io.vfsgw.nativeio;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * One open {@code /dev/fuse} file descriptor: open, read a request, write a reply, clone, close.
 * Callers see this object and FsException, never a jnr type or a bare errno.
 */
public final class FuseDevice implements AutoCloseable {
    /** The libc calls of this family only. */
    public interface Libc {
        int open(String path, int flags);

        @ssize_t long read(int fd, @Out ByteBuffer buf, @size_t long count);

        @ssize_t long write(int fd, @In ByteBuffer buf, @size_t long count);

        int ioctl(int fd, long request, IntByReference arg);

        int close(int fd);
    }

    static final Libc LIBC = Native.loadLibc(Libc.class);

    private static final int O_RDWR = 02;
    private static final int O_CLOEXEC = 02000000;
    /** _IOR(229, 0, uint32_t) from linux/fuse.h: binds a fresh fd to the connection of another. */
    static final long FUSE_DEV_IOC_CLONE = 0x8004e500L;
    /** The kernel refuses reads into anything smaller (linux/fuse.h FUSE_MIN_READ_BUFFER). */
    public static final int MIN_READ_BUFFER = 8192;
    private static final int ECONNABORTED = 103;

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private FuseDevice(int fd) {
        this.fd = fd;
    }

    /** Opens /dev/fuse read-write, close-on-exec, so no child process inherits the connection. */
    public static FuseDevice open() throws FsException {
        int fd = LIBC.open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            throw Native.failure(LIBC, "open /dev/fuse (is the fuse module loaded and /dev/fuse accessible?)");
        }
        return new FuseDevice(fd);
    }

    /** Takes ownership of an already open /dev/fuse fd (one fusermount3 handed us). */
    static FuseDevice adopt(int fd) {
        return new FuseDevice(fd);
    }

    /**
     * A new fd bound to the same connection (FUSE_DEV_IOC_CLONE). Requests are spread over all
     * clones; a reply must be written to the fd that read its request (each fd has its own
     * processing queue in the kernel). Only valid once this fd is mounted.
     */
    public FuseDevice cloneDevice() throws FsException {
        FuseDevice clone = open();
        IntByReference source = new IntByReference(fd);
        if (LIBC.ioctl(clone.fd, FUSE_DEV_IOC_CLONE, source) != 0) {
            FsException e = Native.failure(LIBC, "ioctl FUSE_DEV_IOC_CLONE on /dev/fuse fd " + fd);
            clone.close();
            throw e;
        }
        return clone;
    }

    /** The raw fd number, for the mount(2) data string only. */
    public int fd() {
        return fd;
    }

    /**
     * Reads one whole request into {@code dst} from index 0 (position and limit are ignored and left
     * alone). Returns its length.
     *
     * @param dst a direct buffer of at least {@link #MIN_READ_BUFFER} bytes and at least max_write +
     *            4 KiB, else the kernel answers EINVAL
     * @throws FsException ENOENT (the request was interrupted before we got it: read again), EINTR,
     *                     EAGAIN (read again), ENODEV (the filesystem was unmounted or the connection
     *                     aborted: stop), EPERM (not mounted yet), EINVAL (buffer too small)
     */
    public int read(ByteBuffer dst) throws FsException {
        requireDirect(dst);
        // SAFETY: the view starts at index 0 of dst and the kernel writes at most capacity() bytes.
        ByteBuffer whole = dst.duplicate().clear();
        long n = LIBC.read(fd, whole, whole.capacity());
        if (n < 0) {
            throw failure("read /dev/fuse");
        }
        return (int) n;
    }

    /**
     * Writes {@code src[0, length)} as one message (a reply or a notification); a FUSE message must
     * go in a single write(2). Position and limit of {@code src} are ignored.
     *
     * @throws FsException ENOENT (the request was interrupted and is no longer waited for, or a
     *                     notification named an unknown inode), EINVAL (malformed message), ENODEV
     */
    public void write(ByteBuffer src, int length) throws FsException {
        requireDirect(src);
        if (length < 0 || length > src.capacity()) {
            throw FsException.of(Errno.EINVAL, "write length " + length + " outside buffer of " + src.capacity());
        }
        // SAFETY: [0, length) is inside src, checked above; the kernel only reads it.
        long n = LIBC.write(fd, src.duplicate().clear(), length);
        if (n < 0) {
            throw failure("write /dev/fuse");
        }
        if (n != length) {
            throw FsException.of(Errno.EIO, "short write to /dev/fuse: " + n + " of " + length);
        }
    }

    /** Closes the fd once; later calls do nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            LIBC.close(fd);
        }
    }

    private static void requireDirect(ByteBuffer b) {
        if (!b.isDirect()) {
            throw new IllegalArgumentException("/dev/fuse I/O needs a direct ByteBuffer");
        }
    }

    /** ECONNABORTED (an abort through fusectl) is reported as ENODEV: for us both mean "stop". */
    private FsException failure(String what) {
        int code = Native.lastErrno(LIBC);
        if (code == ECONNABORTED) {
            return FsException.of(Errno.ENODEV, what + ": connection aborted (errno 103)");
        }
        return FsException.of(Errno.fromCode(code), what + " (errno " + code + ")");
    }
}
