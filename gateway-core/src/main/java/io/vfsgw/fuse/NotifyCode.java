package io.vfsgw.fuse;

/**
 * {@code enum fuse_notify_code}: the {@code error} field of an {@link OutHeader} with unique 0.
 * Codes after FUSE_NOTIFY_DELETE are newer than 7.38 and listed so logs can name them.
 */
public final class NotifyCode {
    private NotifyCode() {
    }

    public static final int FUSE_NOTIFY_POLL = 1;
    public static final int FUSE_NOTIFY_INVAL_INODE = 2;
    public static final int FUSE_NOTIFY_INVAL_ENTRY = 3;
    public static final int FUSE_NOTIFY_STORE = 4;
    public static final int FUSE_NOTIFY_RETRIEVE = 5;
    public static final int FUSE_NOTIFY_DELETE = 6;
    /** 7.40: ask the kernel to resend pending requests (needs FUSE_HAS_RESEND). */
    public static final int FUSE_NOTIFY_RESEND = 7;
    /** 7.44. */
    public static final int FUSE_NOTIFY_INC_EPOCH = 8;
    /** 7.45. */
    public static final int FUSE_NOTIFY_PRUNE = 9;
}
