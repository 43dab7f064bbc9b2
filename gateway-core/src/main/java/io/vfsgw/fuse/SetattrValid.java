package io.vfsgw.fuse;

/** FATTR_*: the bits of {@link SetattrIn#valid()} saying which fields a SETATTR changes. */
public final class SetattrValid {
    private SetattrValid() {
    }

    public static final int FATTR_MODE = 1 << 0;
    public static final int FATTR_UID = 1 << 1;
    public static final int FATTR_GID = 1 << 2;
    public static final int FATTR_SIZE = 1 << 3;
    public static final int FATTR_ATIME = 1 << 4;
    public static final int FATTR_MTIME = 1 << 5;
    /** {@code fh} is valid (ftruncate, futimens on an open file). */
    public static final int FATTR_FH = 1 << 6;
    /** Set atime to the server's current time (utimensat UTIME_NOW). */
    public static final int FATTR_ATIME_NOW = 1 << 7;
    public static final int FATTR_MTIME_NOW = 1 << 8;
    /** {@code lockOwner} is valid. */
    public static final int FATTR_LOCKOWNER = 1 << 9;
    public static final int FATTR_CTIME = 1 << 10;
    /** Clear suid/sgid (FUSE_HANDLE_KILLPRIV_V2): chown, or truncate by a caller without CAP_FSETID. */
    public static final int FATTR_KILL_SUIDGID = 1 << 11;
}
