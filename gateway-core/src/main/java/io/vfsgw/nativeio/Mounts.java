package io.vfsgw.nativeio;

import io.vfsgw.spi.FsException;
import jnr.ffi.types.u_int64_t;

/** mount(2) and umount2(2). Callers see FsException, never a jnr type. */
public final class Mounts {
    /** The libc calls of this family only. */
    public interface Libc {
        int mount(String source, String target, String fstype, @u_int64_t long flags, String data);

        int umount2(String target, int flags);
    }

    static final Libc LIBC = Native.loadLibc(Libc.class);

    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    /** umount2: detach now, finish when the last user lets go (umount -l). */
    public static final int MNT_DETACH = 2;

    private Mounts() {
    }

    /** mount(2); the errno of a failure is kept (EPERM, ENODEV, EINVAL, ...). */
    public static void mount(String source, String target, String fstype, long flags, String data)
            throws FsException {
        if (LIBC.mount(source, target, fstype, flags, data) != 0) {
            throw Native.failure(LIBC, "mount -t " + fstype + " " + source + " " + target);
        }
    }

    /** umount2(2): EBUSY while in use (unless MNT_DETACH), EINVAL when not a mount point. */
    public static void umount2(String target, int flags) throws FsException {
        if (LIBC.umount2(target, flags) != 0) {
            throw Native.failure(LIBC, "umount " + target);
        }
    }
}
