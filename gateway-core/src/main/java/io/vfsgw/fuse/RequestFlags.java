package io.vfsgw.fuse;

/** Per-request flag bits of linux/fuse.h other than INIT, SETATTR and OPEN-reply flags. */
public final class RequestFlags {
    private RequestFlags() {
    }

    // fuse_release_in.release_flags
    /** Flush before release (the last close of a file that had locks or FLUSH not yet sent). */
    public static final int FUSE_RELEASE_FLUSH = 1 << 0;
    /** Release the flock held by this file (FUSE_FLOCK_LOCKS). */
    public static final int FUSE_RELEASE_FLOCK_UNLOCK = 1 << 1;

    // fuse_getattr_in.getattr_flags
    /** {@link GetattrIn#fh()} is valid (fstat on an open file). */
    public static final int FUSE_GETATTR_FH = 1 << 0;

    // fuse_lk_in.lk_flags
    /** The lock is a BSD flock, not a POSIX lock. */
    public static final int FUSE_LK_FLOCK = 1 << 0;

    // fuse_write_in.write_flags
    /** Delayed write from the page cache; the file handle is guessed. */
    public static final int FUSE_WRITE_CACHE = 1 << 0;
    /** {@link WriteIn#lockOwner()} is valid. */
    public static final int FUSE_WRITE_LOCKOWNER = 1 << 1;
    /** Kill suid and sgid bits (FUSE_HANDLE_KILLPRIV_V2). */
    public static final int FUSE_WRITE_KILL_SUIDGID = 1 << 2;
    /** Obsolete alias of {@link #FUSE_WRITE_KILL_SUIDGID}. */
    public static final int FUSE_WRITE_KILL_PRIV = FUSE_WRITE_KILL_SUIDGID;

    // fuse_read_in.read_flags
    /** {@link ReadIn#lockOwner()} is valid. */
    public static final int FUSE_READ_LOCKOWNER = 1 << 1;

    // fuse_ioctl_in.flags / fuse_ioctl_out.flags
    public static final int FUSE_IOCTL_COMPAT = 1 << 0;
    public static final int FUSE_IOCTL_UNRESTRICTED = 1 << 1;
    public static final int FUSE_IOCTL_RETRY = 1 << 2;
    public static final int FUSE_IOCTL_32BIT = 1 << 3;
    public static final int FUSE_IOCTL_DIR = 1 << 4;
    public static final int FUSE_IOCTL_COMPAT_X32 = 1 << 5;

    // fuse_poll_in.flags
    public static final int FUSE_POLL_SCHEDULE_NOTIFY = 1 << 0;

    // fuse_fsync_in.fsync_flags
    /** Sync data only, not metadata (fdatasync). */
    public static final int FUSE_FSYNC_FDATASYNC = 1 << 0;

    // fuse_attr.flags
    /** The node is a submount root (FUSE_SUBMOUNTS). */
    public static final int FUSE_ATTR_SUBMOUNT = 1 << 0;
    /** Use DAX for this file in per-inode DAX mode (FUSE_HAS_INODE_DAX). */
    public static final int FUSE_ATTR_DAX = 1 << 1;

    // fuse_open_in.open_flags / fuse_create_in.open_flags
    /** Kill suid and sgid if executable (O_TRUNC open by a caller without CAP_FSETID, KILLPRIV_V2). */
    public static final int FUSE_OPEN_KILL_SUIDGID = 1 << 0;

    // fuse_setxattr_in.setxattr_flags
    /** Clear SGID when system.posix_acl_access is set. */
    public static final int FUSE_SETXATTR_ACL_KILL_SGID = 1 << 0;

    // fuse_notify_inval_entry_out.flags
    /** Only expire the dentry, do not drop it (needs FUSE_HAS_EXPIRE_ONLY). */
    public static final int FUSE_EXPIRE_ONLY = 1 << 0;

    // fuse_setupmapping_in.flags
    public static final long FUSE_SETUPMAPPING_FLAG_WRITE = 1L << 0;
    public static final long FUSE_SETUPMAPPING_FLAG_READ = 1L << 1;

    // cuse_init_out.flags
    public static final int CUSE_UNRESTRICTED_IOCTL = 1 << 0;
}
