package io.vfsgw.fuse;

/**
 * FUSE_* INIT flag bits as one 64-bit set: bits 0..31 travel in {@code flags}, bits 32..63 in
 * {@code flags2} shifted down by 32 (only when FUSE_INIT_EXT is set on both sides). So the 64-bit set
 * is {@code flags | (long) flags2 << 32}; see {@link InitIn#flags64()} and {@link InitOut#flags64()}.
 *
 * <p>Bits up to FUSE_HAS_EXPIRE_ONLY are protocol 7.38; later ones (7.39..7.45) are listed so a newer
 * kernel's offer can be logged by name, and vfsgw accepts only those {@link InitNegotiation} names.
 */
public final class InitFlags {
    private InitFlags() {
    }

    /** Asynchronous read requests (several READs of one file in flight). */
    public static final long FUSE_ASYNC_READ = 1L << 0;
    /** Remote locking for POSIX file locks (GETLK/SETLK/SETLKW reach the daemon). */
    public static final long FUSE_POSIX_LOCKS = 1L << 1;
    /** Kernel sends file handle for fstat, etc. (never implemented by Linux). */
    public static final long FUSE_FILE_OPS = 1L << 2;
    /** The filesystem handles O_TRUNC in OPEN (no separate SETATTR size 0). */
    public static final long FUSE_ATOMIC_O_TRUNC = 1L << 3;
    /** The filesystem handles lookups of "." and ".." (NFS export). */
    public static final long FUSE_EXPORT_SUPPORT = 1L << 4;
    /** Writes larger than 4 KiB. */
    public static final long FUSE_BIG_WRITES = 1L << 5;
    /** Do not apply the umask to modes on create (the filesystem does it). */
    public static final long FUSE_DONT_MASK = 1L << 6;
    public static final long FUSE_SPLICE_WRITE = 1L << 7;
    public static final long FUSE_SPLICE_MOVE = 1L << 8;
    public static final long FUSE_SPLICE_READ = 1L << 9;
    /** Remote locking for BSD flock locks. */
    public static final long FUSE_FLOCK_LOCKS = 1L << 10;
    /** Kernel supports ioctl on directories. */
    public static final long FUSE_HAS_IOCTL_DIR = 1L << 11;
    /** Invalidate cached pages when mtime or size change on GETATTR. */
    public static final long FUSE_AUTO_INVAL_DATA = 1L << 12;
    /** READDIRPLUS (READDIR + LOOKUP in one). */
    public static final long FUSE_DO_READDIRPLUS = 1L << 13;
    /** Adaptive READDIRPLUS: the kernel picks READDIR or READDIRPLUS per call. */
    public static final long FUSE_READDIRPLUS_AUTO = 1L << 14;
    /** Asynchronous direct I/O submission. */
    public static final long FUSE_ASYNC_DIO = 1L << 15;
    /** Writeback cache for buffered writes (the kernel owns mtime and size while it caches). */
    public static final long FUSE_WRITEBACK_CACHE = 1L << 16;
    /** Kernel supports zero-message opens (ENOSYS to OPEN means "never ask again"). */
    public static final long FUSE_NO_OPEN_SUPPORT = 1L << 17;
    /** Parallel LOOKUP and READDIR in one directory. */
    public static final long FUSE_PARALLEL_DIROPS = 1L << 18;
    /** The filesystem kills suid/sgid/caps on write/chown/truncate (v1 semantics: always). */
    public static final long FUSE_HANDLE_KILLPRIV = 1L << 19;
    /** The filesystem supports POSIX ACLs (and the kernel then enforces them). */
    public static final long FUSE_POSIX_ACL = 1L << 20;
    /** Reading the device after abort returns ECONNABORTED. */
    public static final long FUSE_ABORT_ERROR = 1L << 21;
    /** init_out.max_pages holds the max number of pages per request. */
    public static final long FUSE_MAX_PAGES = 1L << 22;
    /** Cache READLINK responses. */
    public static final long FUSE_CACHE_SYMLINKS = 1L << 23;
    /** Kernel supports zero-message opendir. */
    public static final long FUSE_NO_OPENDIR_SUPPORT = 1L << 24;
    /** Only invalidate cached pages on explicit request. */
    public static final long FUSE_EXPLICIT_INVAL_DATA = 1L << 25;
    /** init_out.map_alignment holds log2 of the DAX mapping alignment. */
    public static final long FUSE_MAP_ALIGNMENT = 1L << 26;
    /** Kernel supports auto-mounting directory submounts. */
    public static final long FUSE_SUBMOUNTS = 1L << 27;
    /** The filesystem kills suid/sgid on write/chown/truncate with Linux VFS rules (see FATTR_KILL_SUIDGID). */
    public static final long FUSE_HANDLE_KILLPRIV_V2 = 1L << 28;
    /** The filesystem supports the extended (16-byte) fuse_setxattr_in. */
    public static final long FUSE_SETXATTR_EXT = 1L << 29;
    /** Extended fuse_init_in/out: flags2 is valid. Required to use any bit from 32 up. */
    public static final long FUSE_INIT_EXT = 1L << 30;
    /** Reserved, do not use. */
    public static final long FUSE_INIT_RESERVED = 1L << 31;
    /** Add a security context to create, mkdir, symlink and mknod (as a request extension). */
    public static final long FUSE_SECURITY_CTX = 1L << 32;
    /** Per-inode DAX (mount option dax=inode; the filesystem sets FUSE_ATTR_DAX per file). */
    public static final long FUSE_HAS_INODE_DAX = 1L << 33;
    /** Send the caller's supplementary groups with create requests (request extension, Linux 6.2). */
    public static final long FUSE_CREATE_SUPP_GROUP = 1L << 34;
    /** Kernel supports FUSE_EXPIRE_ONLY in NOTIFY_INVAL_ENTRY. */
    public static final long FUSE_HAS_EXPIRE_ONLY = 1L << 35;
    /** 7.39 (as FUSE_DIRECT_IO_RELAX): allow shared mmap of files opened with FOPEN_DIRECT_IO. */
    public static final long FUSE_DIRECT_IO_ALLOW_MMAP = 1L << 36;
    /** 7.40: backing-file passthrough (needs an ioctl on /dev/fuse; not for virtio-fs). */
    public static final long FUSE_PASSTHROUGH = 1L << 37;
    /** 7.40: the filesystem does not support NFS export. */
    public static final long FUSE_NO_EXPORT_SUPPORT = 1L << 38;
    /** 7.40: kernel supports FUSE_NOTIFY_RESEND. */
    public static final long FUSE_HAS_RESEND = 1L << 39;
    /** 7.41: idmapped mounts. */
    public static final long FUSE_ALLOW_IDMAP = 1L << 40;
    /** 7.42: requests over io_uring. */
    public static final long FUSE_OVER_IO_URING = 1L << 41;
    /** 7.43: init_out carries a request timeout. */
    public static final long FUSE_REQUEST_TIMEOUT = 1L << 42;

    /** Obsolete alias of {@link #FUSE_DIRECT_IO_ALLOW_MMAP}. */
    public static final long FUSE_DIRECT_IO_RELAX = FUSE_DIRECT_IO_ALLOW_MMAP;

    private static final String[] NAMES = {
        "ASYNC_READ", "POSIX_LOCKS", "FILE_OPS", "ATOMIC_O_TRUNC", "EXPORT_SUPPORT", "BIG_WRITES",
        "DONT_MASK", "SPLICE_WRITE", "SPLICE_MOVE", "SPLICE_READ", "FLOCK_LOCKS", "HAS_IOCTL_DIR",
        "AUTO_INVAL_DATA", "DO_READDIRPLUS", "READDIRPLUS_AUTO", "ASYNC_DIO", "WRITEBACK_CACHE",
        "NO_OPEN_SUPPORT", "PARALLEL_DIROPS", "HANDLE_KILLPRIV", "POSIX_ACL", "ABORT_ERROR", "MAX_PAGES",
        "CACHE_SYMLINKS", "NO_OPENDIR_SUPPORT", "EXPLICIT_INVAL_DATA", "MAP_ALIGNMENT", "SUBMOUNTS",
        "HANDLE_KILLPRIV_V2", "SETXATTR_EXT", "INIT_EXT", "INIT_RESERVED", "SECURITY_CTX",
        "HAS_INODE_DAX", "CREATE_SUPP_GROUP", "HAS_EXPIRE_ONLY", "DIRECT_IO_ALLOW_MMAP", "PASSTHROUGH",
        "NO_EXPORT_SUPPORT", "HAS_RESEND", "ALLOW_IDMAP", "OVER_IO_URING", "REQUEST_TIMEOUT",
    };

    /** For logs: "ASYNC_READ|POSIX_LOCKS|..."; unknown bits appear as "bit42". */
    public static String describe(long flags) {
        StringBuilder sb = new StringBuilder();
        for (int bit = 0; bit < 64; bit++) {
            if ((flags & (1L << bit)) != 0) {
                if (sb.length() > 0) {
                    sb.append('|');
                }
                sb.append(bit < NAMES.length ? NAMES[bit] : "bit" + bit);
            }
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }
}
