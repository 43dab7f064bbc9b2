package io.vfsgw.nativeio;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * Shared plumbing for the jnr-ffi bindings: loading libc interfaces and reading errno.
 * Each syscall family has its own small class beside this one; no jnr type leaves this package.
 */
public final class Native {
    private Native() {
    }

    /** Loads a libc binding interface, failing at once if a symbol is missing. */
    public static <T> T loadLibc(Class<T> iface) {
        return LibraryLoader.create(iface).failImmediately().load("c");
    }

    /** The errno of the last failed call on this thread. */
    public static int lastErrno(Object library) {
        return LastError.getLastError(Runtime.getRuntime(library));
    }

    /** An FsException for the last failed call, naming what was attempted. */
    public static FsException failure(Object library, String what) {
        int code = lastErrno(library);
        Errno errno = Errno.fromCode(code);
        // The errno's name says it all, except for codes we have no name for (they become EIO).
        return errno.code() == code ? FsException.of(errno, what)
                : FsException.of(errno, what + " (errno " + code + ")");
    }
}
