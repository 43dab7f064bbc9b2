package io.vfsgw.spi;

/**
 * The one way a storage operation fails: an {@link Errno} the session sends back to the kernel.
 * Stackless, and its message is put together only when someone reads it, because ENOENT on
 * lookup is the most common reply a filesystem sends and almost none is ever logged.
 */
public final class FsException extends Exception {
    private static final long serialVersionUID = 1L;
    private final Errno errno;
    private final String detail;

    private FsException(Errno errno, String detail, Throwable cause) {
        super(null, cause, false, false);
        this.errno = errno;
        this.detail = detail;
    }

    public static FsException of(Errno errno) {
        return new FsException(errno, null, null);
    }

    public static FsException of(Errno errno, String detail) {
        return new FsException(errno, detail, null);
    }

    /** Keeps the cause for the log; the errno is what the guest sees. */
    public static FsException wrap(Errno errno, Throwable cause, String detail) {
        return new FsException(errno, detail, cause);
    }

    /** "ENOENT" or "ENOENT: what failed". */
    @Override
    public String getMessage() {
        return detail == null ? errno.name() : errno.name() + ": " + detail;
    }

    public Errno errno() {
        return errno;
    }
}
