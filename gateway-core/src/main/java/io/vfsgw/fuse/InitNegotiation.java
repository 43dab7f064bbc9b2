package io.vfsgw.fuse;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.util.Optional;

/**
 * INIT as a pure function: the kernel's offer and vfsgw's {@link InitPolicy} in, the reply and the
 * {@link NegotiatedProtocol} out. Follows libfuse's do_init on versions and virtiofsd on flags.
 *
 * <p>Versions: vfsgw speaks 7.38 and answers minor = min(kernel's, 38); structs then follow that minor
 * (older kernels get the compat sizes). A kernel with major &gt; 7 gets just "7.38" so it re-sends INIT
 * with major 7 ({@link Result#protocol()} empty: the session stays uninitialised). A kernel with major
 * &lt; 7 gets {@link FsException} EPROTO: the session replies -EPROTO and stays uninitialised.
 *
 * <p>Flags: vfsgw never sets a bit the kernel did not offer. Always accepted when offered:
 * ASYNC_READ, ATOMIC_O_TRUNC, BIG_WRITES, HAS_IOCTL_DIR, AUTO_INVAL_DATA, ASYNC_DIO, PARALLEL_DIROPS,
 * ABORT_ERROR, MAX_PAGES, CACHE_SYMLINKS, SETXATTR_EXT, INIT_EXT. By policy: DO_READDIRPLUS with
 * READDIRPLUS_AUTO, EXPORT_SUPPORT (else NO_EXPORT_SUPPORT), WRITEBACK_CACHE, POSIX_LOCKS,
 * FLOCK_LOCKS, HANDLE_KILLPRIV_V2, MAP_ALIGNMENT (DAX), DIRECT_IO_ALLOW_MMAP, and POSIX_ACL with
 * DONT_MASK (both or neither: {@link InitPolicy#posixAcl}). Otherwise never:
 * <ul>
 *   <li>DONT_MASK: the kernel applies the umask, so backends get final modes.
 *   <li>SPLICE_*: Java cannot splice; the data path is zero-copy already.
 *   <li>HANDLE_KILLPRIV (v1): it kills suid on every write, even by CAP_FSETID callers; v2 matches VFS.
 *   <li>POSIX_ACL: the kernel would then enforce ACLs from system.posix_acl_* xattrs that the mem and
 *       S3 backends cannot store and that would differ between backends; without it the kernel
 *       refuses ACL xattrs itself (EOPNOTSUPP) and permission checks follow the mode bits.
 *   <li>EXPLICIT_INVAL_DATA: AUTO_INVAL_DATA is what keeps several guests coherent on timeouts.
 *   <li>NO_OPEN_SUPPORT / NO_OPENDIR_SUPPORT: every open gets a handle (S3 and DAX need it).
 *   <li>SECURITY_CTX, CREATE_SUPP_GROUP: they add request extensions vfsgw does not interpret.
 *   <li>HAS_INODE_DAX: per-inode DAX needs FUSE_ATTR_DAX per file; whole-mount DAX needs nothing.
 *   <li>capability bits (HAS_EXPIRE_ONLY, HAS_RESEND, SUBMOUNTS): read via
 *       {@link NegotiatedProtocol#kernelOffers}, never echoed.
 * </ul>
 */
public final class InitNegotiation {
    private InitNegotiation() {
    }

    /** Flags accepted whenever the kernel offers them. */
    static final long ALWAYS = InitFlags.FUSE_ASYNC_READ | InitFlags.FUSE_ATOMIC_O_TRUNC
            | InitFlags.FUSE_BIG_WRITES | InitFlags.FUSE_HAS_IOCTL_DIR | InitFlags.FUSE_AUTO_INVAL_DATA
            | InitFlags.FUSE_ASYNC_DIO
            | InitFlags.FUSE_PARALLEL_DIROPS | InitFlags.FUSE_ABORT_ERROR | InitFlags.FUSE_MAX_PAGES
            | InitFlags.FUSE_CACHE_SYMLINKS | InitFlags.FUSE_SETXATTR_EXT | InitFlags.FUSE_INIT_EXT;

    /**
     * The INIT reply and, when the versions agree, the protocol to keep.
     *
     * @param reply    the init_out to send; its {@link InitOut#encodeTo} writes {@link #replySize()} bytes
     * @param protocol empty when the kernel must re-send INIT (major &gt; 7)
     */
    public record Result(InitOut reply, Optional<NegotiatedProtocol> protocol) {
        /** The body length of the reply (8, 24 or 64 bytes), as the kernel's minor expects. */
        public int replySize() {
            return reply.encodedSize();
        }
    }

    /**
     * Answers the kernel's INIT.
     *
     * @throws FsException EPROTO when the kernel's major is below 7 (reply -EPROTO)
     */
    public static Result negotiate(InitIn in, InitPolicy policy) throws FsException {
        int ourMajor = FuseProtocol.FUSE_KERNEL_VERSION;
        int ourMinor = FuseProtocol.FUSE_KERNEL_MINOR_VERSION;
        if (Integer.compareUnsigned(in.major(), ourMajor) < 0) {
            throw FsException.of(Errno.EPROTO, "kernel speaks FUSE " + Integer.toUnsignedString(in.major())
                    + "." + Integer.toUnsignedString(in.minor()) + ", vfsgw needs 7.x");
        }
        if (in.major() != ourMajor) {
            // As libfuse: answer our version only; the kernel re-sends INIT with major 7 or gives up.
            return new Result(new InitOut(ourMajor, ourMinor, 0, 0, 0, 0, 0, 0, 0, 0, 0), Optional.empty());
        }
        int minor = Integer.compareUnsigned(in.minor(), ourMinor) < 0 ? in.minor() : ourMinor;

        long offered = in.flags64();
        long wanted = ALWAYS;
        wanted |= policy.exportSupport() ? InitFlags.FUSE_EXPORT_SUPPORT : InitFlags.FUSE_NO_EXPORT_SUPPORT;
        if (policy.wantWritebackCache()) {
            wanted |= InitFlags.FUSE_WRITEBACK_CACHE;
        }
        if (policy.posixLocks()) {
            wanted |= InitFlags.FUSE_POSIX_LOCKS;
        }
        if (policy.flockLocks()) {
            wanted |= InitFlags.FUSE_FLOCK_LOCKS;
        }
        if (policy.handleKillprivV2()) {
            wanted |= InitFlags.FUSE_HANDLE_KILLPRIV_V2;
        }
        if (policy.wantDax()) {
            wanted |= InitFlags.FUSE_MAP_ALIGNMENT;
        }
        if (policy.directIoAllowMmap()) {
            wanted |= InitFlags.FUSE_DIRECT_IO_ALLOW_MMAP;
        }
        if (policy.readdirplus()) {
            wanted |= InitFlags.FUSE_DO_READDIRPLUS | InitFlags.FUSE_READDIRPLUS_AUTO;
        }
        if (policy.posixAcl()) {
            wanted |= InitFlags.FUSE_POSIX_ACL | InitFlags.FUSE_DONT_MASK;
        }
        long accepted = wanted & offered;
        if ((accepted & InitFlags.FUSE_POSIX_ACL) == 0) {
            accepted &= ~InitFlags.FUSE_DONT_MASK; // unmasked modes only where ACLs decide instead
        }
        if ((accepted & InitFlags.FUSE_INIT_EXT) == 0) {
            accepted &= 0xFFFF_FFFFL;   // without INIT_EXT the kernel never reads flags2
        }

        int maxReadahead = Integer.compareUnsigned(in.maxReadahead(), policy.maxReadahead()) < 0
                ? in.maxReadahead() : policy.maxReadahead();
        int maxPages = (accepted & InitFlags.FUSE_MAX_PAGES) != 0
                ? Math.min(policy.maxPages(), FuseProtocol.FUSE_MAX_MAX_PAGES) : 0;
        int mapAlignment = (accepted & InitFlags.FUSE_MAP_ALIGNMENT) != 0 ? policy.mapAlignmentLog2() : 0;

        InitOut out = new InitOut(ourMajor, minor, maxReadahead, (int) accepted, policy.maxBackground(),
                policy.congestionThreshold(), policy.maxWrite(), policy.timeGran(), maxPages, mapAlignment,
                (int) (accepted >>> 32));
        NegotiatedProtocol protocol = new NegotiatedProtocol(minor, in.minor(), offered, accepted,
                policy.maxWrite(), maxReadahead, maxPages, mapAlignment);
        return new Result(out, Optional.of(protocol));
    }
}
