package io.vfsgw.spi;

/**
 * The one way a storage operation fails: an {@link Errno} the session sends back to the kernel.
 * Stackless, because ENOENT on lookup is the most common reply a filesystem sends.
 */
public final class FsException extends Exception {
    private static final long serialVersionUID = 1L;
    private final Errno errno;

    private FsException(Errno errno, String detail, Throwable cause) {
        super(detail, cause, false, false);
        this.errno = errno;
    }

    public static FsException of(Errno errno) {
        return new FsException(errno, errno.name(), null);
    }

    public static FsException of(Errno errno, String detail) {
        return new FsException(errno, errno.name() + ": " + detail, null);
    }

    /** Keeps the cause for the log; the errno is what the guest sees. */
    public static FsException wrap(Errno errno, Throwable cause, String detail) {
        return new FsException(errno, errno.name() + ": " + detail, cause);
    }

    public Errno errno() {
        return errno;
    }
}
