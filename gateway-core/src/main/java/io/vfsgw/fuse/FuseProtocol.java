package io.vfsgw.fuse;

/** Protocol-wide constants of linux/fuse.h: the version vfsgw speaks, the root node, buffer minimums. */
public final class FuseProtocol {
    private FuseProtocol() {
    }

    /** FUSE_KERNEL_VERSION: the major version vfsgw speaks. */
    public static final int FUSE_KERNEL_VERSION = 7;
    /** FUSE_KERNEL_MINOR_VERSION: the highest minor vfsgw speaks (the layouts of this package). */
    public static final int FUSE_KERNEL_MINOR_VERSION = 38;
    /** FUSE_ROOT_ID: the node id of the mount's root; never forgotten. */
    public static final long FUSE_ROOT_ID = 1L;
    /** FUSE_MIN_READ_BUFFER: a /dev/fuse read buffer must be at least this big. */
    public static final int FUSE_MIN_READ_BUFFER = 8192;
    /** FUSE_MAX_PAGES_PER_REQ: pages per request when FUSE_MAX_PAGES is not negotiated. */
    public static final int FUSE_MAX_PAGES_PER_REQ = 32;
    /** The kernel's default upper bound for init_out.max_pages (sysctl fs.fuse.max_pages_limit). */
    public static final int FUSE_MAX_MAX_PAGES = 256;
    /** FUSE_NAME_OFFSET: where a {@code fuse_dirent}'s name starts. */
    public static final int FUSE_NAME_OFFSET = Dirent.SIZE;
    /** FUSE_NAME_OFFSET_DIRENTPLUS: where a {@code fuse_direntplus}'s name starts. */
    public static final int FUSE_NAME_OFFSET_DIRENTPLUS = Direntplus.SIZE;
    /** FUSE_MAX_NR_SECCTX: extension types 0..31 are security-context headers. */
    public static final int FUSE_MAX_NR_SECCTX = 31;
    /** FUSE_EXT_GROUPS (7.38, Linux 6.2): the supplementary-groups extension type. */
    public static final int FUSE_EXT_GROUPS = 32;
    /** FUSE_IOCTL_MAX_IOV: most in + out iovecs of an unrestricted ioctl. */
    public static final int FUSE_IOCTL_MAX_IOV = 256;
    /**
     * FUSE_INT_REQ_BIT (kernel-internal fuse_i.h): an INTERRUPT request's own unique is the target's
     * unique with this bit set; {@link InterruptIn#unique()} holds the target's.
     */
    public static final long FUSE_INT_REQ_BIT = 1L;
    /** CUSE_INIT_INFO_MAX. */
    public static final int CUSE_INIT_INFO_MAX = 4096;

    /** FUSE_REC_ALIGN / FUSE_DIRENT_ALIGN: rounds a record length up to 8 bytes. */
    public static int direntAlign(int length) {
        return (length + 7) & ~7;
    }
}
