package io.vfsgw.backend.posix;

import io.vfsgw.nativeio.FileHandles;
import io.vfsgw.nativeio.FsCredentials;
import io.vfsgw.nativeio.PosixDirs;
import io.vfsgw.nativeio.PosixFiles;
import io.vfsgw.nativeio.Xattrs;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.DirSink;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.Lock;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StatFs;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.spi.WriteSource;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passthrough of a host directory, held to virtiofsd's standard.
 *
 * <h2>The jail</h2>
 * Every node holds an O_PATH fd (past the fd budget, a file handle re-opened on use: {@link InodeTable});
 * a name is resolved one component at a time relative to its
 * parent's fd with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) and
 * O_NOFOLLOW, so a symlink is a node of its own and is never followed here (the guest kernel follows
 * symlinks itself, inside its own mount). Names never contain '/' ({@link FileName}); "." and ".."
 * are answered from the node table (".." of the root is the root) and refused by creating calls.
 * Operations that Linux offers only by path (chmod, xattrs, re-open, linkat of an fd) go through
 * {@code /proc/self/fd/N} of our own O_PATH fd, which names exactly that object. Creation as the
 * caller happens under the caller's fsuid/fsgid on the worker thread ({@link FsCredentials}).
 *
 * <p>A directory the host moves out of the source while the guest holds it would otherwise let
 * lookups continue outside: every parent-relative operation first checks, by the kernel's own path
 * of the parent fd, that it is still under the source (ESTALE otherwise). See docs/security.md for
 * what remains (a TOCTOU window against a racing host, objects already held).
 *
 * <h2>Lifetimes</h2>
 * Inodes live while the guest holds lookups ({@link InodeTable}); handles from open to release. Both
 * are pinned for each operation ({@link Inode}, {@link PinnedFd}), so a FORGET/RELEASE or an fd
 * eviction racing an operation never closes an fd in use.
 */
public final class PosixBackend implements StorageBackend {
    private static final Logger LOG = LoggerFactory.getLogger(PosixBackend.class);

    private static final long JAIL = PosixFiles.RESOLVE_BENEATH | PosixFiles.RESOLVE_NO_SYMLINKS
            | PosixFiles.RESOLVE_NO_MAGICLINKS;
    private static final int O_PATH_NOFOLLOW = OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW;
    private static final byte[] DOT = PosixFiles.cstr(".");
    private static final byte[] DOTDOT = PosixFiles.cstr("..");
    /**
     * "N\0" for fds below 4096, made once each and shared (never modified): the containment check
     * names a directory's fd under /proc/self/fd on every parent-relative call.
     */
    private static final AtomicReferenceArray<byte[]> PROC_NAMES = new AtomicReferenceArray<>(4096);
    static final String ACL_ACCESS = "system.posix_acl_access";
    static final String ACL_DEFAULT = "system.posix_acl_default";
    private static final long FD_WARNING_INTERVAL_NS = TimeUnit.SECONDS.toNanos(10);

    private final PosixOptions options;
    private final int procFd;
    /** When fd exhaustion was last logged at WARN; see {@link #reclaimIdleFds()}. */
    private final AtomicLong lastFdWarningNs = new AtomicLong(System.nanoTime() - FD_WARNING_INTERVAL_NS - 1);
    private final InodeTable inodes;
    private final Inode root;
    private final Map<Long, Handle> handles = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    /**
     * Lock fds by (node, lock owner). FUSE lock owners are 64-bit values each connection scrambles
     * with its own random key, so owners of different guests sharing this backend do not collide in
     * practice.
     */
    private final Map<LongPair, LockFd> lockFds = new ConcurrentHashMap<>();
    private final HostLockWaits lockWaits = new HostLockWaits();
    private volatile byte[] rootPath;

    private PosixBackend(PosixOptions options, int procFd, InodeTable inodes, int rootFd, PosixFiles.Stat rootStat) {
        this.options = options;
        this.procFd = procFd;
        this.inodes = inodes;
        this.root = inodes.addRoot(rootFd, rootStat);
    }

    /**
     * Opens the source directory.
     *
     * @throws IllegalArgumentException with a one-line message when --source is unusable
     * @throws IllegalStateException    when /proc is not mounted
     */
    public static PosixBackend open(PosixOptions options) {
        options.checkSource();
        int procFd;
        try {
            procFd = PosixFiles.openat(PosixFiles.AT_FDCWD, PosixFiles.cstr("/proc/self/fd"),
                    OpenFlags.O_PATH | OpenFlags.O_DIRECTORY, 0);
        } catch (FsException e) {
            throw new IllegalStateException("posix backend: /proc/self/fd is not available (" + e.getMessage()
                    + "); mount /proc", e);
        }
        try {
            int rootFd = PosixFiles.openat(PosixFiles.AT_FDCWD,
                    PosixFiles.cstr(options.source().toAbsolutePath().toString()),
                    OpenFlags.O_PATH | OpenFlags.O_DIRECTORY, 0);
            InodeTable table;
            try {
                table = inodeTable(options, procFd, rootFd);
            } catch (RuntimeException e) {
                PosixFiles.closeQuietly(rootFd);
                PosixFiles.closeQuietly(procFd);
                throw e;
            }
            PosixBackend b = new PosixBackend(options, procFd, table, rootFd, PosixFiles.fstat(rootFd));
            b.rootPath = b.kernelPath(rootFd);
            LOG.info("posix backend: sharing {} (readonly={}, xattr={}, devices={}, directIo={}, xattrmap={},"
                    + " posixAcl={}, inodeFileHandles={})", options.source(), options.readonly(), options.xattr(),
                    options.allowDevices(), options.allowDirectIo(),
                    options.xattrMap() == null ? "none" : options.xattrMap(), options.posixAcl(), table.describe());
            return b;
        } catch (FsException e) {
            PosixFiles.closeQuietly(procFd);
            throw new IllegalArgumentException("posix backend: cannot open --source " + options.source() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * The node table for {@code --inode-file-handles}: with {@code prefer}/{@code mandatory}, checks
     * that handles can be made and re-opened on the source (a filesystem that makes handles, and
     * CAP_DAC_READ_SEARCH for open_by_handle_at) and keeps a read fd on the source's mount for
     * open_by_handle_at.
     *
     * @throws IllegalArgumentException with {@code mandatory} when handles cannot be used
     */
    private static InodeTable inodeTable(PosixOptions options, int procFd, int rootFd) {
        if (options.fileHandles() == PosixOptions.InodeFileHandles.NEVER) {
            return new InodeTable(-1, 0, Integer.MAX_VALUE);
        }
        int budget = options.maxFds() > 0 ? options.maxFds() : defaultFdBudget();
        int mountFd = -1;
        try {
            // open_by_handle_at wants a real fd on the mount, not an O_PATH one
            mountFd = PosixFiles.openat(procFd, procName(rootFd), OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, 0);
            FileHandles.FileHandle h = FileHandles.of(rootFd);
            PosixFiles.close(FileHandles.open(mountFd, h, OpenFlags.O_PATH));
            return new InodeTable(mountFd, h.mountId(), budget);
        } catch (FsException e) {
            PosixFiles.closeQuietly(mountFd);
            String why = switch (e.errno()) {
                case EPERM -> "open_by_handle_at needs CAP_DAC_READ_SEARCH (run as root)";
                case EOPNOTSUPP -> "the filesystem of --source makes no file handles";
                default -> e.getMessage();
            };
            if (options.fileHandles() == PosixOptions.InodeFileHandles.MANDATORY) {
                throw new IllegalArgumentException("posix backend: --inode-file-handles=mandatory, but " + why);
            }
            LOG.warn("posix backend: no file handles ({}); every node the guest holds keeps an fd", why);
            return new InodeTable(-1, 0, Integer.MAX_VALUE);
        }
    }

    /** Half the soft RLIMIT_NOFILE (the JVM has raised it to the hard limit by now), at least 64. */
    static int defaultFdBudget() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    long n = soft.equals("unlimited") ? 1 << 20 : Long.parseLong(soft);
                    return (int) Math.max(64, Math.min(n / 2, Integer.MAX_VALUE));
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            LOG.warn("posix backend: cannot read RLIMIT_NOFILE from /proc/self/limits ({}); fd budget 512", e.toString());
        }
        return 512;
    }

    @Override
    public String name() {
        return "posix";
    }

    /** O_PATH fds nodes hold now, the root's not counted (tests and metrics). */
    public int nodeFdCount() {
        return inodes.openFds();
    }

    /** Nodes the fd budget's eviction order tracks (tests). */
    int evictionOrderSize() {
        return inodes.evictionOrderSize();
    }

    /** Times a node got its fd back from its file handle (tests and metrics). */
    public long handleReopenCount() {
        return inodes.reopens();
    }

    /** Nodes currently held (for tests and metrics). */
    public int nodeCount() {
        return inodes.size();
    }

    /** Open handles (for tests and metrics). */
    public int handleCount() {
        return handles.size();
    }

    /** Where the host kernel says a node is now (tests: every node handed out must be inside the source). */
    String hostPathOf(long node) throws FsException {
        Inode n = inodes.pin(node);
        try {
            return new String(kernelPath(n.fd), StandardCharsets.UTF_8);
        } finally {
            inodes.unpin(n);
        }
    }

    // ---------------------------------------------------------------- helpers: jail, fds, attrs

    private static byte[] procName(int fd) {
        if (fd < 0 || fd >= PROC_NAMES.length()) {
            return PosixFiles.cstr(Integer.toString(fd));
        }
        byte[] name = PROC_NAMES.get(fd);
        if (name == null) {
            name = PosixFiles.cstr(Integer.toString(fd));
            PROC_NAMES.set(fd, name);
        }
        return name;
    }

    private static String procPath(int fd) {
        return "/proc/self/fd/" + fd;
    }

    /** What the kernel says the fd's path is now (d_path through /proc/self/fd). */
    private byte[] kernelPath(int fd) throws FsException {
        return PosixFiles.readlinkat(procFd, procName(fd));
    }

    private static boolean isRootDirectory(byte[] path) {
        return path.length == 1 && path[0] == '/';
    }

    private static boolean under(byte[] path, byte[] rootPath) {
        if (isRootDirectory(rootPath)) {
            return true;
        }
        return path.length > rootPath.length && path[rootPath.length] == '/'
                && Arrays.equals(path, 0, rootPath.length, rootPath, 0, rootPath.length);
    }

    /** Refuses a directory the host moved out of the source (its kernel path is no longer under it). */
    private void checkInside(Inode dir) throws FsException {
        if (dir == root || isRootDirectory(rootPath)
                || PosixFiles.linkTargetIsBelow(procFd, procName(dir.fd), rootPath)) {
            return; // the common case, compared in native memory without copying the path out
        }
        // Not below the source's path as we know it: the host may have renamed the source itself.
        byte[] p = kernelPath(dir.fd);
        byte[] now = kernelPath(root.fd);
        rootPath = now;
        if (!under(p, now)) {
            LOG.warn("posix backend: node {} is outside the source now ({}); refusing",
                    dir.id, new String(p, StandardCharsets.UTF_8));
            throw FsException.of(Errno.ESTALE, "directory moved out of the source");
        }
    }

    /**
     * The directory a readdir on this thread is listing, and whether it was checked to be inside the
     * source during that call. READDIRPLUS looks up every name it lists; one check per listing call
     * stands for all of them (a readlink per entry was a tenth of a directory walk's system calls),
     * with the same window between check and use as any check (docs/security.md, limit 1).
     */
    private static final class Listing {
        long dir;
        boolean checked;
    }

    private static final ThreadLocal<Listing> LISTING = ThreadLocal.withInitial(Listing::new);

    /** {@link #checkInside}, done once per listing call for the directory being listed. */
    private void checkInsideOncePerListing(Inode dir) throws FsException {
        Listing l = LISTING.get();
        if (l.dir != dir.id) {
            checkInside(dir);
        } else if (!l.checked) {
            checkInside(dir);
            l.checked = true;
        }
    }

    /** Pins {@code id} as a directory still inside the source, for a parent-relative operation. */
    private Inode pinDir(long id) throws FsException {
        Inode d = inodes.pin(id);
        try {
            if (!d.isDirectory()) {
                throw FsException.of(Errno.ENOTDIR);
            }
            checkInsideOncePerListing(d);
            return d;
        } catch (FsException e) {
            inodes.unpin(d);
            throw e;
        }
    }

    private Handle pinHandle(long fh, long node) throws FsException {
        Handle h = handles.get(fh);
        if (h == null || !h.tryPin()) {
            throw FsException.of(Errno.EBADF, "handle " + fh);
        }
        if (h.nodeId != node) {
            h.unpin();
            throw FsException.of(Errno.EBADF, "handle " + fh + " is not of node " + node);
        }
        return h;
    }

    /** A call that opens an fd. */
    @FunctionalInterface
    private interface FdOpener {
        int open() throws FsException;
    }

    /**
     * Runs an fd-creating call; on EMFILE/ENFILE closes idle fds of our own and tries once more, so
     * the guest does not see our fd exhaustion when we can avoid it.
     */
    private int openFd(FdOpener opener) throws FsException {
        try {
            return opener.open();
        } catch (FsException e) {
            if (!InodeTable.isFdExhaustion(e) || reclaimIdleFds() == 0) {
                throw e;
            }
            return opener.open();
        }
    }

    /**
     * Out of fds: closes lock fds whose owner holds no locks, and has idle nodes trade fds for
     * file handles where handles are on ({@link InodeTable#shedFds()}). Returns how many fds went.
     */
    int reclaimIdleFds() {
        int locks = closeIdleLockFds();
        int nodes = inodes.shedFds();
        long now = System.nanoTime();
        long last = lastFdWarningNs.get();
        boolean warn = now - last > FD_WARNING_INTERVAL_NS && lastFdWarningNs.compareAndSet(last, now);
        String hint = inodes.handlesEnabled() ? "" : " (no file handles: --inode-file-handles=never or no CAP_DAC_READ_SEARCH)";
        if (warn) {   // under sustained pressure this runs per request: once every 10 s is enough to see it
            LOG.warn("posix backend: out of file descriptors (raise ulimit -n); closed {} idle lock fds, traded {} "
                    + "node fds for file handles{}", locks, nodes, hint);
        } else {
            LOG.debug("posix backend: out of file descriptors; closed {} idle lock fds, traded {} node fds", locks, nodes);
        }
        return locks + nodes;
    }

    /** Closes lock fds whose owner holds no locks; returns how many. */
    int closeIdleLockFds() {
        int n = 0;
        for (Map.Entry<LongPair, LockFd> e : lockFds.entrySet()) {
            if (!e.getValue().mayHoldLocks && lockFds.remove(e.getKey(), e.getValue())) {
                e.getValue().drop();
                n++;
            }
        }
        return n;
    }

    /** Re-opens the object of an O_PATH fd with real open flags (virtiofsd's reopen through /proc). */
    private int reopen(Inode n, int flags) throws FsException {
        return openFd(() -> PosixFiles.openat(procFd, procName(n.fd), flags, 0));
    }

    private static int encodeDev(int major, int minor) {
        // the kernel's new_encode_dev, as fuse_attr.rdev carries it
        return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
    }

    private Attr attr(Inode n, PosixFiles.Stat st) {
        return new Attr(n.id, st.size(), st.blocks(), st.atimeNs(), st.mtimeNs(), st.ctimeNs(), st.mode(),
                st.nlink(), options.uidMap().toGuest(st.uid()), options.gidMap().toGuest(st.gid()),
                encodeDev(st.rdevMajor(), st.rdevMinor()), st.blksize(), n.mountRoot);
    }

    /**
     * Whether a directory fd is the root of a mount other than the source's own (a submount the guest
     * should see as one: virtiofsd's announce_submounts). One statx per new directory node; a mount
     * made later over a directory we hold does not change it (our fd is the covered directory, and
     * the next lookup of the name reaches the mount's root, another node).
     */
    private static boolean isMountRoot(int fd, PosixFiles.Stat st) {
        if (!st.isDirectory()) {
            return false;
        }
        try {
            return FileHandles.mountInfo(fd).mountRoot();
        } catch (FsException e) {
            return false; // before Linux 5.8: no submount announcement
        }
    }

    /** Resolves one guest name under {@code dir} to an O_PATH fd of the object itself, never following it. */
    private int openChild(Inode dir, FileName name) throws FsException {
        byte[] c = name.nulTerminated();
        return openFd(() -> PosixFiles.openat2(dir.fd, c, O_PATH_NOFOLLOW, 0, JAIL));
    }

    /** Adopts an O_PATH fd as a node with one lookup reference. */
    private Entry adopt(int fd) throws FsException {
        PosixFiles.Stat st;
        try {
            st = PosixFiles.fstat(fd);
        } catch (FsException e) {
            PosixFiles.closeQuietly(fd);
            throw e;
        }
        Inode n = inodes.adopt(fd, st, isMountRoot(fd, st));
        return new Entry(n.id, 0, attr(n, st));
    }

    private Entry lookupChild(Inode dir, FileName name) throws FsException {
        return adopt(openChild(dir, name));
    }

    private static void refuseDots(FileName name, Errno errno) throws FsException {
        if (name.isDotOrDotDot()) {
            throw FsException.of(errno, "\"" + name + "\"");
        }
    }

    private static byte[] c(FileName name) {
        return name.nulTerminated();
    }

    /**
     * The permission bits to create with. Normally the guest kernel applied its umask already. With
     * --posix-acl the session lets the kernel hand the umask over instead (FUSE_DONT_MASK), because
     * a parent's default ACL replaces the umask: then the host applies that ACL to the unmasked mode
     * (our threads' umask is 0), and without one we apply the umask here, as the host kernel would.
     */
    private int creationMode(Inode dir, int mode, int umask) throws FsException {
        int perms = mode & 07777;
        if (!options.posixAcl() || (umask & 0777) == 0) {
            return perms;
        }
        try {
            Xattrs.get(procPath(dir.fd), ACL_DEFAULT);
            return perms; // the default ACL decides
        } catch (FsException e) {
            if (e.errno() == Errno.ENODATA || e.errno() == Errno.EOPNOTSUPP) {
                return perms & ~(umask & 0777);
            }
            throw e;
        }
    }

    /** Creation calls run as the caller so the host records the right owner (and setgid dirs work). */
    private FsCredentials.Scope asCaller(RequestContext ctx) throws FsException {
        int uid = options.uidMap().toHost(ctx.uid());
        int gid = options.gidMap().toHost(ctx.gid());
        FsCredentials.privateUmaskZero(); // modes arrive with the guest's umask applied
        return FsCredentials.become(uid, gid);
    }

    // ---------------------------------------------------------------- lookup, forget, attributes

    @Override
    public Entry lookup(RequestContext ctx, long parent, FileName name) throws FsException {
        Inode dir = pinDir(parent);
        try {
            if (name.length() == 1 && name.byteAt(0) == '.') {
                inodes.addLookup(dir);
                return new Entry(dir.id, 0, attr(dir, PosixFiles.fstat(dir.fd)));
            }
            if (name.isDotOrDotDot()) {
                return lookupDotDot(dir);
            }
            return lookupChild(dir, name);
        } finally {
            inodes.unpin(dir);
        }
    }

    /** "..": the root's parent is the root; any other parent must still be inside the source. */
    private Entry lookupDotDot(Inode dir) throws FsException {
        if (dir == root) {
            inodes.addLookup(root);
            return new Entry(root.id, 0, attr(root, PosixFiles.fstat(root.fd)));
        }
        int fd = openFd(() -> PosixFiles.openat(dir.fd, DOTDOT, O_PATH_NOFOLLOW | OpenFlags.O_DIRECTORY, 0));
        try {
            PosixFiles.Stat st = PosixFiles.fstat(fd);
            if (!(st.dev() == root.dev && st.ino() == root.ino) && !under(kernelPath(fd), rootPath)) {
                throw FsException.of(Errno.ESTALE, "parent is outside the source");
            }
        } catch (FsException e) {
            PosixFiles.closeQuietly(fd);
            throw e;
        }
        return adopt(fd);
    }

    @Override
    public void forget(long node, long nlookup) {
        inodes.forget(node, nlookup);
    }

    @Override
    public Attr getattr(RequestContext ctx, long node, long fh) throws FsException {
        if (fh >= 0) {
            // The kernel names the open file it asks about (FUSE_GETATTR_FH: before a read past the
            // attribute timeout): its fd answers without the node's own, which may have been traded
            // for a file handle and would need a new fd, the one thing a process at its limit lacks.
            Handle h = pinHandle(fh, node);
            try {
                return attr(inodes.known(node), PosixFiles.fstat(h.fd));
            } finally {
                h.unpin();
            }
        }
        Inode n = inodes.pin(node);
        try {
            return attr(n, PosixFiles.fstat(n.fd));
        } finally {
            inodes.unpin(n);
        }
    }

    @Override
    public Attr setattr(RequestContext ctx, long node, SetAttr ch) throws FsException {
        Inode n = inodes.pin(node);
        try {
            if (ch.mode() != null) {
                if (n.isSymlink()) {
                    throw FsException.of(Errno.EOPNOTSUPP, "chmod of a symlink");
                }
                // No fchmod on O_PATH fds: chmod through the magic link names exactly this object.
                PosixFiles.fchmodat(procFd, procName(n.fd), ch.mode() & 07777, 0);
            }
            if (ch.uid() != null || ch.gid() != null) {
                PosixFiles.fchown(n.fd, ch.uid() == null ? -1 : options.uidMap().toHost(ch.uid()),
                        ch.gid() == null ? -1 : options.gidMap().toHost(ch.gid()));
            }
            if (ch.size() != null) {
                truncate(ctx, n, ch);
            } else if (ch.killSuidGid() && ch.mode() == null && !n.isDirectory() && !n.isSymlink()) {
                // An O_TRUNC open by a caller without CAP_FSETID (FUSE_OPEN_KILL_SUIDGID) and a chown
                // arrive without a size: the kernel leaves clearing the bits to us.
                killPriv(n);
            }
            if (ch.changesNothing() && !n.isSymlink()) {
                // chown(f, -1, -1) on the host (we act as root) moves ctime and clears the bits.
                PosixFiles.Stat st = PosixFiles.fstat(n.fd);
                boolean nothingToClear = n.isDirectory() || SetAttr.withoutSetuid(st.mode()) == st.mode();
                if (nothingToClear || SetAttr.emptySetattrClearsSetuid(ctx.isRoot(), options.uidMap().toHost(ctx.uid()),
                        options.gidMap().toHost(ctx.gid()), st.uid(), st.gid(), st.mode())) {
                    PosixFiles.fchown(n.fd, -1, -1);
                }
            }
            if (ch.changesTimes()) {
                boolean aSpecial = ch.atimeNow() || ch.atimeNs() == null;
                long a = ch.atimeNow() ? PosixFiles.UTIME_NOW : ch.atimeNs() == null ? PosixFiles.UTIME_OMIT : ch.atimeNs();
                boolean mSpecial = ch.mtimeNow() || ch.mtimeNs() == null;
                long m = ch.mtimeNow() ? PosixFiles.UTIME_NOW : ch.mtimeNs() == null ? PosixFiles.UTIME_OMIT : ch.mtimeNs();
                PosixFiles.futimens(n.fd, a, aSpecial, m, mSpecial);
            }
            return attr(n, PosixFiles.fstat(n.fd));
        } finally {
            inodes.unpin(n);
        }
    }

    private void truncate(RequestContext ctx, Inode n, SetAttr ch) throws FsException {
        if (ch.size() < 0) {
            throw FsException.of(Errno.EINVAL, "negative size");
        }
        if (n.isDirectory()) {
            throw FsException.of(Errno.EISDIR);
        }
        if (!n.isRegular()) {
            throw FsException.of(Errno.EINVAL, "truncate of a special file");
        }
        Handle h = ch.fh() == null ? null : pinHandle(ch.fh(), n.id);
        int fd = -1;
        try {
            fd = h != null ? h.fd : reopen(n, OpenFlags.O_WRONLY);
            try (FsCredentials.Scope s = killPrivScope(ctx, ch.killSuidGid())) {
                PosixFiles.ftruncate(fd, ch.size());
            }
            if (ch.killSuidGid() && ctx.isRoot()) {
                killPriv(n);
            }
        } finally {
            if (h != null) {
                h.unpin();
            } else {
                PosixFiles.closeQuietly(fd);
            }
        }
    }

    /**
     * For a write/truncate that must clear suid/sgid: running it with the caller's fsuid drops
     * CAP_FSETID on this thread, so the host kernel clears the bits as part of the same call.
     */
    private FsCredentials.Scope killPrivScope(RequestContext ctx, boolean kill) throws FsException {
        if (!kill || ctx.isRoot()) {
            return null;
        }
        // Any non-zero fsuid drops CAP_FSETID, which is all we need: the fd is already open, so
        // the id itself is not checked. An unmapped caller still gets its bits cleared.
        int uid;
        try {
            uid = options.uidMap().toHost(ctx.uid());
        } catch (FsException unmapped) {
            uid = IdMap.OVERFLOW_ID;
        }
        return FsCredentials.become(uid == 0 ? IdMap.OVERFLOW_ID : uid, ctx.gid());
    }

    /** Root caller without CAP_FSETID in the guest: clear the bits explicitly. */
    private void killPriv(Inode n) throws FsException {
        int mode = PosixFiles.fstat(n.fd).mode();
        int cleared = SetAttr.withoutSetuid(mode);
        if (cleared != mode) {
            PosixFiles.fchmodat(procFd, procName(n.fd), cleared & 07777, 0);
        }
    }

    @Override
    public byte[] readlink(RequestContext ctx, long node) throws FsException {
        Inode n = inodes.pin(node);
        try {
            if (!n.isSymlink()) {
                throw FsException.of(Errno.EINVAL, "not a symlink");
            }
            return PosixFiles.readlink(n.fd);
        } finally {
            inodes.unpin(n);
        }
    }

    // ---------------------------------------------------------------- creating and removing names

    @Override
    public Entry symlink(RequestContext ctx, long parent, FileName name, byte[] target) throws FsException {
        refuseDots(name, Errno.EEXIST);
        if (target.length == 0) {
            throw FsException.of(Errno.ENOENT, "empty symlink target");
        }
        if (target.length > 4095) {
            throw FsException.of(Errno.ENAMETOOLONG, "symlink target");
        }
        for (byte b : target) {
            if (b == 0) {
                throw FsException.of(Errno.EINVAL, "NUL in symlink target");
            }
        }
        Inode dir = pinDir(parent);
        try {
            try (FsCredentials.Scope s = asCaller(ctx)) {
                PosixDirs.symlinkat(PosixFiles.cstr(target), dir.fd, c(name));
            }
            return lookupChild(dir, name);
        } finally {
            inodes.unpin(dir);
        }
    }

    @Override
    public Entry mknod(RequestContext ctx, long parent, FileName name, int mode, int rdev, int umask)
            throws FsException {
        refuseDots(name, Errno.EEXIST);
        FileType type = FileType.ofMode(mode);
        if (type == null || type == FileType.DIRECTORY || type == FileType.SYMLINK) {
            throw FsException.of(Errno.EINVAL, "mknod type " + Integer.toOctalString(mode));
        }
        boolean device = type == FileType.CHARACTER_DEVICE || type == FileType.BLOCK_DEVICE;
        if (device && !options.allowDevices()) {
            throw FsException.of(Errno.EPERM, "device nodes are not allowed (allowDevices)");
        }
        int major = device ? (rdev & 0xfff00) >>> 8 : 0;
        int minor = device ? (rdev & 0xff) | ((rdev >>> 12) & 0xfff00) : 0;
        Inode dir = pinDir(parent);
        try {
            try (FsCredentials.Scope s = asCaller(ctx)) {
                PosixDirs.mknodat(dir.fd, c(name), (mode & ~07777) | creationMode(dir, mode, umask), major, minor);
            }
            return lookupChild(dir, name);
        } finally {
            inodes.unpin(dir);
        }
    }

    @Override
    public Entry mkdir(RequestContext ctx, long parent, FileName name, int mode, int umask) throws FsException {
        refuseDots(name, Errno.EEXIST);
        Inode dir = pinDir(parent);
        try {
            try (FsCredentials.Scope s = asCaller(ctx)) {
                PosixDirs.mkdirat(dir.fd, c(name), creationMode(dir, mode, umask));
            }
            return lookupChild(dir, name);
        } finally {
            inodes.unpin(dir);
        }
    }

    @Override
    public void unlink(RequestContext ctx, long parent, FileName name) throws FsException {
        refuseDots(name, Errno.EISDIR);
        Inode dir = pinDir(parent);
        try {
            PosixDirs.unlinkat(dir.fd, c(name), 0);
        } finally {
            inodes.unpin(dir);
        }
    }

    @Override
    public void rmdir(RequestContext ctx, long parent, FileName name) throws FsException {
        if (name.isDotOrDotDot()) {
            throw FsException.of(name.length() == 1 ? Errno.EINVAL : Errno.ENOTEMPTY, "\"" + name + "\"");
        }
        Inode dir = pinDir(parent);
        try {
            PosixDirs.unlinkat(dir.fd, c(name), PosixFiles.AT_REMOVEDIR);
        } finally {
            inodes.unpin(dir);
        }
    }

    @Override
    public void rename(RequestContext ctx, long parent, FileName name, long newParent, FileName newName, int flags)
            throws FsException {
        if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0) {
            throw FsException.of(Errno.EINVAL, "rename flags " + flags);
        }
        refuseDots(name, Errno.EBUSY);
        refuseDots(newName, Errno.EBUSY);
        Inode from = pinDir(parent);
        try {
            Inode to = pinDir(newParent);
            try {
                PosixDirs.renameat2(from.fd, c(name), to.fd, c(newName), flags);
            } finally {
                inodes.unpin(to);
            }
        } finally {
            inodes.unpin(from);
        }
    }

    @Override
    public Entry link(RequestContext ctx, long node, long newParent, FileName newName) throws FsException {
        refuseDots(newName, Errno.EEXIST);
        Inode n = inodes.pin(node);
        try {
            if (n.isDirectory()) {
                throw FsException.of(Errno.EPERM, "hard link to a directory");
            }
            Inode dir = pinDir(newParent);
            try {
                // linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH in the init namespace; the /proc
                // magic link with AT_SYMLINK_FOLLOW does the same for the object we hold (virtiofsd).
                try (FsCredentials.Scope s = asCaller(ctx)) {
                    PosixDirs.linkat(procFd, procName(n.fd), dir.fd, c(newName), PosixFiles.AT_SYMLINK_FOLLOW);
                }
                return lookupChild(dir, newName);
            } finally {
                inodes.unpin(dir);
            }
        } finally {
            inodes.unpin(n);
        }
    }

    // ---------------------------------------------------------------- open files

    /** Guest open flags to host flags: what a re-open must not carry, and O_DIRECT only if allowed. */
    private int hostOpenFlags(int flags) {
        int f = flags & ~(OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOCTTY | OpenFlags.O_NOFOLLOW
                | OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_TMPFILE);
        if (!options.allowDirectIo()) {
            f &= ~OpenFlags.O_DIRECT;
        }
        return f | OpenFlags.O_CLOEXEC;
    }

    private OpenResult addHandle(int fd, Inode n, int flags) {
        Handle h = new Handle(fd, n.id, n.isDirectory(), n.isRegular());
        long fh = nextHandle.getAndIncrement();
        inodes.opened(n);
        handles.put(fh, h);
        return new OpenResult(fh, (flags & OpenFlags.O_DIRECT) != 0 && options.allowDirectIo(), false, false);
    }

    @Override
    public OpenResult open(RequestContext ctx, long node, int flags) throws FsException {
        Inode n = inodes.pin(node);
        try {
            if (n.isDirectory()) {
                throw FsException.of(Errno.EISDIR);
            }
            if (n.isSymlink()) {
                throw FsException.of(Errno.ELOOP, "open of a symlink"); // as O_NOFOLLOW would
            }
            if (!n.isRegular()) {
                // The guest opens FIFOs and devices itself; opening host ones here could block a worker
                // or hand the guest a host device.
                throw FsException.of(Errno.ENXIO, "open of a special file");
            }
            int fd = reopen(n, hostOpenFlags(flags));
            return addHandle(fd, n, flags);
        } finally {
            inodes.unpin(n);
        }
    }

    @Override
    public CreateResult create(RequestContext ctx, long parent, FileName name, int mode, int flags, int umask)
            throws FsException {
        refuseDots(name, Errno.EEXIST);
        Inode dir = pinDir(parent);
        try {
            int hostFlags = hostOpenFlags(flags) | OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOFOLLOW;
            byte[] cname = c(name);
            int createMode = creationMode(dir, mode, umask);
            int fd;
            try (FsCredentials.Scope s = asCaller(ctx)) {
                fd = openFd(() -> PosixFiles.openat2(dir.fd, cname, hostFlags, createMode, JAIL));
            } catch (FsException e) {
                if (e.errno() != Errno.EEXIST || (flags & OpenFlags.O_EXCL) != 0) {
                    throw e;
                }
                return openExisting(ctx, dir, name, flags); // created by someone else meanwhile
            }
            try {
                Entry entry = adopt(openFd(() -> PosixFiles.openat(procFd, procName(fd), OpenFlags.O_PATH, 0)));
                Inode n = inodes.pin(entry.nodeId());
                try {
                    return new CreateResult(entry, addHandle(fd, n, flags));
                } finally {
                    inodes.unpin(n);
                }
            } catch (FsException e) {
                PosixFiles.closeQuietly(fd);
                throw e;
            }
        } finally {
            inodes.unpin(dir);
        }
    }

    private CreateResult openExisting(RequestContext ctx, Inode dir, FileName name, int flags) throws FsException {
        Entry e = lookupChild(dir, name);
        try {
            OpenResult o = open(ctx, e.nodeId(), flags & ~OpenFlags.O_CREAT);
            if ((flags & OpenFlags.O_TRUNC) != 0) {
                // The guest's inode takes its size from this reply: the one read before the truncate is gone.
                try {
                    e = new Entry(e.nodeId(), e.generation(), getattr(ctx, e.nodeId(), o.fh()));
                } catch (FsException ex) {
                    release(ctx, e.nodeId(), o.fh(), 0, 0);
                    throw ex;
                }
            }
            return new CreateResult(e, o);
        } catch (FsException ex) {
            forget(e.nodeId(), 1);
            throw ex;
        }
    }

    @Override
    public CreateResult tmpfile(RequestContext ctx, long parent, int mode, int flags, int umask) throws FsException {
        Inode dir = pinDir(parent);
        try {
            // O_TMPFILE needs write access; a guest asking for read-only gets O_RDWR underneath.
            int access = OpenFlags.isWritable(flags) ? flags & OpenFlags.O_ACCMODE : OpenFlags.O_RDWR;
            int hostFlags = (hostOpenFlags(flags) & ~OpenFlags.O_ACCMODE & ~OpenFlags.O_TMPFILE)
                    | OpenFlags.O_TMPFILE | access;
            int createMode = creationMode(dir, mode, umask);
            int fd;
            try (FsCredentials.Scope s = asCaller(ctx)) {
                fd = openFd(() -> PosixFiles.openat(dir.fd, DOT, hostFlags, createMode));
            }
            try {
                Entry entry = adopt(openFd(() -> PosixFiles.openat(procFd, procName(fd), OpenFlags.O_PATH, 0)));
                Inode n = inodes.pin(entry.nodeId());
                try {
                    return new CreateResult(entry, addHandle(fd, n, flags));
                } finally {
                    inodes.unpin(n);
                }
            } catch (FsException e) {
                PosixFiles.closeQuietly(fd);
                throw e;
            }
        } finally {
            inodes.unpin(dir);
        }
    }

    @Override
    public void read(RequestContext ctx, long node, long fh, long offset, ReadSink sink) throws FsException {
        Handle h = pinHandle(fh, node);
        try {
            if (h.directory) {
                throw FsException.of(Errno.EISDIR);
            }
            long pos = offset;
            int want = sink.remaining();
            while (want > 0) {
                // Zero copy: preadv from the host file straight into the reply buffers.
                ByteBuffer[] views = sink.views(want);
                long n = PosixFiles.preadv(h.fd, views, pos);
                if (n <= 0) {
                    break;
                }
                sink.advance((int) n);
                pos += n;
                want -= (int) n;
                if (!h.regular) {
                    break;
                }
            }
        } finally {
            h.unpin();
        }
    }

    @Override
    public int write(RequestContext ctx, long node, long fh, long offset, WriteSource data, boolean killSuidGid)
            throws FsException {
        Handle h = pinHandle(fh, node);
        try {
            int total = 0;
            long pos = offset;
            try (FsCredentials.Scope s = killPrivScope(ctx, killSuidGid)) {
                while (data.remaining() > 0) {
                    long n = PosixFiles.pwritev(h.fd, data.views(), pos);
                    if (n <= 0) {
                        break;
                    }
                    data.advance((int) n);
                    total += (int) n;
                    pos += n;
                }
            } catch (FsException e) {
                if (total == 0) {
                    throw e;
                }
                return total; // short only on error after partial progress
            }
            if (killSuidGid && ctx.isRoot()) {
                Inode n = inodes.pin(node);
                try {
                    killPriv(n);
                } finally {
                    inodes.unpin(n);
                }
            }
            return total;
        } finally {
            h.unpin();
        }
    }

    @Override
    public void flush(RequestContext ctx, long node, long fh, long lockOwner) throws FsException {
        // POSIX: any close by an owner drops that owner's locks on the file.
        dropLockFd(node, lockOwner);
        Handle h = pinHandle(fh, node);
        try {
            // close() of a dup reports deferred write errors (NFS, FUSE), as virtiofsd does. Out of
            // fds even for the dup, there is nothing to report through: close(2) must not fail for it.
            int dup;
            try {
                dup = openFd(() -> PosixFiles.dup(h.fd));
            } catch (FsException e) {
                if (InodeTable.isFdExhaustion(e)) {
                    return;
                }
                throw e;
            }
            PosixFiles.close(dup);
        } finally {
            h.unpin();
        }
    }

    @Override
    public void release(RequestContext ctx, long node, long fh, int flags, long lockOwner) throws FsException {
        dropLockFd(node, lockOwner);
        Handle h = handles.remove(fh);
        if (h != null) {
            h.drop(); // also drops flock locks: this was the description's only fd
            inodes.closed(h.nodeId);
            lockWaits.released();
        }
    }

    @Override
    public void fsync(RequestContext ctx, long node, long fh, boolean datasync) throws FsException {
        Handle h = pinHandle(fh, node);
        try {
            PosixFiles.fsync(h.fd, datasync);
        } finally {
            h.unpin();
        }
    }

    // ---------------------------------------------------------------- directories

    @Override
    public OpenResult opendir(RequestContext ctx, long node, int flags) throws FsException {
        Inode n = pinDir(node);
        try {
            int fd = reopen(n, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY);
            return addHandle(fd, n, 0);
        } finally {
            inodes.unpin(n);
        }
    }

    /** Cookie after our own "." entry; see {@link #readdir}. */
    static final long COOKIE_AFTER_DOT = 1;
    /** Cookie after our own ".." entry: the host's entries from the start follow. */
    static final long COOKIE_AFTER_DOTDOT = 2;

    /**
     * Lists "." and ".." first, then the host's entries in the host's order with the host's d_off as
     * cookies. ext4 hands out "." and ".." in hash order among the other names; the SPI's listings
     * (and tools that expect it) start with them, so we make them ourselves and skip the host's.
     * Cookies 1 and 2 mean "after our '.'" and "after our '..'"; tmpfs, btrfs and vfat use those very
     * d_off values for their own dots, and ext4 never hands them out for a name (byte offsets of 12
     * and up, or 64-bit hashes), so they do not clash with a host position in practice.
     */
    /**
     * getdents64's buffer, one per thread: one per directory handle was 32 KiB of native memory
     * allocated and zeroed per OPENDIR, and freed only by the GC.
     */
    private static final ThreadLocal<PosixDirs.DirBuffer> DIR_BUFFER =
            ThreadLocal.withInitial(() -> new PosixDirs.DirBuffer(32 * 1024));

    @Override
    public void readdir(RequestContext ctx, long node, long fh, long cookie, DirSink sink) throws FsException {
        Handle h = pinHandle(fh, node);
        try {
            if (!h.directory) {
                throw FsException.of(Errno.ENOTDIR);
            }
            if (cookie <= COOKIE_AFTER_DOTDOT && PosixFiles.fstat(h.fd).nlink() == 0) {
                throw FsException.of(Errno.ENOENT, "directory removed"); // what getdents64 says of it
            }
            if (cookie == 0 && !sink.add(new DirEntry(FileName.literal("."), node, FileType.DIRECTORY,
                    COOKIE_AFTER_DOT))) {
                return;
            }
            if ((cookie == 0 || cookie == COOKIE_AFTER_DOT) && !sink.add(new DirEntry(FileName.literal(".."),
                    parentIno(h, node), FileType.DIRECTORY, COOKIE_AFTER_DOTDOT))) {
                return;
            }
            long hostCookie = cookie <= COOKIE_AFTER_DOTDOT ? 0 : cookie;
            Listing listing = LISTING.get();
            listing.dir = node;
            listing.checked = false;
            synchronized (h) { // the fd's position is shared by lseek + getdents64
                PosixDirs.getdents(h.fd, hostCookie, DIR_BUFFER.get(), d -> {
                    FileName name = FileName.of(d.name());
                    if (name.isDotOrDotDot()) {
                        return true; // listed above
                    }
                    FileType type = direntType(h.fd, d);
                    long known = inodes.idOf(rootDevOf(), d.ino());
                    long ino = known > 0 ? known : d.ino();
                    return sink.add(new DirEntry(name, ino, type, d.nextOffset()));
                });
            }
        } finally {
            LISTING.get().dir = 0; // no node has id 0
            h.unpin();
        }
    }

    /** The d_ino of "..": the root's is the root; others are our node id when held, else the host's. */
    private long parentIno(Handle h, long node) throws FsException {
        if (node == ROOT_ID) {
            return ROOT_ID;
        }
        PosixFiles.Stat st = PosixFiles.statx(h.fd, DOTDOT, PosixFiles.AT_SYMLINK_NOFOLLOW);
        long known = inodes.idOf(st.dev(), st.ino());
        return known > 0 ? known : st.ino();
    }

    private long rootDevOf() {
        return root.dev;
    }

    /** DT_* to FileType; DT_UNKNOWN (some filesystems) costs one statx. */
    private static FileType direntType(int dirFd, PosixDirs.Dirent d) throws FsException {
        FileType listed = FileType.ofDirentType(d.type());
        if (listed != null) {
            return listed;
        }
        PosixFiles.Stat st = PosixFiles.statx(dirFd, PosixFiles.cstr(d.name()), PosixFiles.AT_SYMLINK_NOFOLLOW);
        FileType t = FileType.ofMode(st.mode());
        return t != null ? t : FileType.REGULAR;
    }

    @Override
    public void releasedir(RequestContext ctx, long node, long fh) throws FsException {
        Handle h = handles.remove(fh);
        if (h != null) {
            h.drop();
            inodes.closed(h.nodeId);
        }
    }

    @Override
    public void fsyncdir(RequestContext ctx, long node, long fh, boolean datasync) throws FsException {
        fsync(ctx, node, fh, datasync);
    }

    // ---------------------------------------------------------------- filesystem

    @Override
    public StatFs statfs(RequestContext ctx, long node) throws FsException {
        Inode n = inodes.pin(node);
        try {
            PosixFiles.FsStat s = PosixFiles.fstatfs(n.fd);
            return new StatFs(s.blocks(), s.bfree(), s.bavail(), s.files(), s.ffree(), (int) s.bsize(),
                    (int) s.namelen(), (int) s.frsize());
        } finally {
            inodes.unpin(n);
        }
    }

    @Override
    public void syncfs(RequestContext ctx) throws FsException {
        Inode n = inodes.pin(ROOT_ID);
        try {
            int fd = reopen(n, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY); // syncfs refuses O_PATH fds
            try {
                PosixFiles.syncfs(fd);
            } finally {
                PosixFiles.closeQuietly(fd);
            }
        } finally {
            inodes.unpin(n);
        }
    }

    // ---------------------------------------------------------------- extended attributes

    private void requireXattr() throws FsException {
        if (!options.xattr()) {
            throw FsException.of(Errno.EOPNOTSUPP, "xattrs are off");
        }
    }

    /** trusted.* and security.* are the host's, as Linux keeps them from unprivileged callers. */
    private static boolean privilegedNamespace(String name) {
        return name.startsWith("trusted.") || name.startsWith("security.");
    }

    private static boolean isPosixAcl(String name) {
        return name.equals(ACL_ACCESS) || name.equals(ACL_DEFAULT);
    }

    /**
     * The host name of a guest xattr name, after the ACL switch and {@code --xattrmap}. ACL names are
     * refused with EOPNOTSUPP unless --posix-acl (what a filesystem without ACLs answers); with it
     * they pass through unmapped, as virtiofsd keeps them out of its map too.
     */
    private String hostXattrName(String name) throws FsException {
        if (isPosixAcl(name)) {
            if (!options.posixAcl()) {
                throw FsException.of(Errno.EOPNOTSUPP, name + " (POSIX ACLs are off; --posix-acl)");
            }
            return name;
        }
        XattrMap map = options.xattrMap();
        return map == null ? name : map.toHost(name);
    }

    /** A host name listxattr returned as the guest sees it; null when hidden. */
    private String clientXattrName(String hostName) {
        if (isPosixAcl(hostName)) {
            return options.posixAcl() ? hostName : null;
        }
        XattrMap map = options.xattrMap();
        return map == null ? hostName : map.toClient(hostName).orElse(null);
    }

    /**
     * For set/remove by a non-root caller: EPERM on privileged namespaces, judged on the guest's name
     * (the guest kernel's own rule) and on the host's (so a map cannot turn user.* into trusted.*).
     */
    private static void checkPrivileged(RequestContext ctx, String name, String hostName) throws FsException {
        if (!ctx.isRoot() && (privilegedNamespace(name) || privilegedNamespace(hostName))) {
            throw FsException.of(Errno.EPERM, name);
        }
    }

    @Override
    public byte[] getxattr(RequestContext ctx, long node, String name) throws FsException {
        requireXattr();
        String hostName;
        try {
            hostName = hostXattrName(name);
        } catch (FsException e) {
            // virtiofsd: a name the map refuses simply does not exist for readers
            throw e.errno() == Errno.EPERM ? FsException.of(Errno.ENODATA, name) : e;
        }
        if (!ctx.isRoot() && (name.startsWith("trusted.") || hostName.startsWith("trusted."))) {
            throw FsException.of(Errno.ENODATA); // what Linux answers an unprivileged reader
        }
        Inode n = inodes.pin(node);
        try {
            return Xattrs.get(procPath(n.fd), hostName);
        } finally {
            inodes.unpin(n);
        }
    }

    @Override
    public void setxattr(RequestContext ctx, long node, String name, byte[] value, int flags) throws FsException {
        requireXattr();
        String hostName = hostXattrName(name);
        checkPrivileged(ctx, name, hostName);
        Inode n = inodes.pin(node);
        try {
            Xattrs.set(procPath(n.fd), hostName, value, flags);
        } finally {
            inodes.unpin(n);
        }
    }

    @Override
    public List<String> listxattr(RequestContext ctx, long node) throws FsException {
        requireXattr();
        Inode n = inodes.pin(node);
        try {
            List<String> all = Xattrs.list(procPath(n.fd));
            List<String> visible = new ArrayList<>(all.size());
            for (String s : all) {
                if (!ctx.isRoot() && s.startsWith("trusted.")) {
                    continue;
                }
                String client = clientXattrName(s);
                if (client != null && (ctx.isRoot() || !client.startsWith("trusted."))) {
                    visible.add(client);
                }
            }
            return visible;
        } finally {
            inodes.unpin(n);
        }
    }

    @Override
    public void removexattr(RequestContext ctx, long node, String name) throws FsException {
        requireXattr();
        String hostName = hostXattrName(name);
        checkPrivileged(ctx, name, hostName);
        Inode n = inodes.pin(node);
        try {
            Xattrs.remove(procPath(n.fd), hostName);
        } finally {
            inodes.unpin(n);
        }
    }

    // ---------------------------------------------------------------- space, seeking, copying

    @Override
    public void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length)
            throws FsException {
        Handle h = pinHandle(fh, node);
        try {
            PosixFiles.fallocate(h.fd, mode, offset, length);
        } finally {
            h.unpin();
        }
    }

    @Override
    public long lseek(RequestContext ctx, long node, long fh, long offset, int whence) throws FsException {
        Handle h = pinHandle(fh, node);
        try {
            return PosixFiles.lseek(h.fd, offset, whence);
        } finally {
            h.unpin();
        }
    }

    @Override
    public long copyFileRange(RequestContext ctx, long nodeIn, long fhIn, long offIn, long nodeOut, long fhOut,
                              long offOut, long length, int flags) throws FsException {
        Handle in = pinHandle(fhIn, nodeIn);
        try {
            Handle out = pinHandle(fhOut, nodeOut);
            try {
                return PosixFiles.copyFileRange(in.fd, offIn, out.fd, offOut, length, flags);
            } finally {
                out.unpin();
            }
        } finally {
            in.unpin();
        }
    }

    // ---------------------------------------------------------------- locks

    private static long lockLen(Lock l) {
        return l.end() == Long.MAX_VALUE ? 0 : l.end() - l.start() + 1;
    }

    /** The OFD-lock fd of (node, owner), opened on first use with an access mode the lock needs. */
    private LockFd lockFd(Inode n, long owner) throws FsException {
        LongPair k = new LongPair(n.id, owner);
        while (true) {
            LockFd existing = lockFds.get(k);
            if (existing != null) {
                if (existing.tryPin()) {
                    return existing;
                }
                lockFds.remove(k, existing);
                continue;
            }
            int fd;
            try {
                fd = reopen(n, OpenFlags.O_RDWR);
            } catch (FsException e) {
                if (e.errno() != Errno.EACCES && e.errno() != Errno.EROFS && e.errno() != Errno.ETXTBSY) {
                    throw e;
                }
                fd = reopen(n, OpenFlags.O_RDONLY); // read locks still work; write locks get EBADF
            }
            LockFd created = new LockFd(fd);
            created.tryPin();
            if (lockFds.putIfAbsent(k, created) == null) {
                return created;
            }
            created.unpin();
            created.drop();
        }
    }

    private void dropLockFd(long node, long owner) {
        LockFd l = lockFds.remove(new LongPair(node, owner));
        if (l != null) {
            boolean held = l.mayHoldLocks;
            l.drop();
            if (held) {
                lockWaits.released();
            }
        }
    }

    @Override
    public Lock getlk(RequestContext ctx, long node, long fh, Lock lock) throws FsException {
        Inode n = inodes.pin(node);
        try {
            LockFd l = lockFd(n, lock.owner());
            try {
                PosixFiles.FlockInfo r = PosixFiles.ofdLock(l.fd, PosixFiles.F_OFD_GETLK, lock.type(), lock.start(),
                        lockLen(lock));
                if (r.type() == Lock.F_UNLCK) {
                    return new Lock(Lock.F_UNLCK, lock.start(), lock.end(), lock.owner(), 0);
                }
                long end = r.len() == 0 ? Long.MAX_VALUE : r.start() + r.len() - 1;
                int pid = r.pid();
                if (pid <= 0) { // an OFD lock: ours, or a host process's (then pid 0, nobody we know)
                    Lock ours = heldByAnotherOwner(n.id, new Lock(lock.type(), r.start(), end, lock.owner(), 0));
                    pid = ours == null ? 0 : ours.pid();
                }
                return new Lock(r.type(), r.start(), end, 0, pid);
            } finally {
                l.unpin();
            }
        } finally {
            inodes.unpin(n);
        }
    }

    /**
     * The lock one of our other owners holds on {@code node} that conflicts with {@code want}, with
     * its owner and guest pid; null when none of ours does (a host process may).
     */
    private Lock heldByAnotherOwner(long node, Lock want) {
        for (Map.Entry<LongPair, LockFd> e : lockFds.entrySet()) {
            LockFd l = e.getValue();
            if (e.getKey().first() != node || e.getKey().second() == want.owner() || !l.mayHoldLocks) {
                continue;
            }
            try {
                Lock found = l.held.test(want);
                if (found.type() != Lock.F_UNLCK) {
                    return found;
                }
            } catch (FsException impossible) {
                return null; // want was validated by the host already
            }
        }
        return null;
    }

    @Override
    public void setlk(RequestContext ctx, long node, long fh, Lock lock, boolean sleep, boolean flock)
            throws FsException {
        if (flock) {
            Handle h = pinHandle(fh, node);
            try {
                int op = switch (lock.type()) {
                    case Lock.F_RDLCK -> PosixFiles.LOCK_SH;
                    case Lock.F_WRLCK -> PosixFiles.LOCK_EX;
                    case Lock.F_UNLCK -> PosixFiles.LOCK_UN;
                    default -> throw FsException.of(Errno.EINVAL, "lock type " + lock.type());
                };
                HostLockWaits.Attempt attempt = () -> PosixFiles.flock(h.fd, op | PosixFiles.LOCK_NB);
                if (sleep) {
                    lockWaits.await(attempt, lock.owner(), null);
                } else {
                    attempt.run();
                }
                if (op != PosixFiles.LOCK_EX) {
                    lockWaits.released(); // an unlock, or a downgrade that may let shared waiters in
                }
            } finally {
                h.unpin();
            }
            return;
        }
        Inode n = inodes.pin(node);
        try {
            LockFd l = lockFd(n, lock.owner());
            try {
                HostLockWaits.Attempt attempt = () -> PosixFiles.ofdLock(l.fd, PosixFiles.F_OFD_SETLK, lock.type(),
                        lock.start(), lockLen(lock));
                if (sleep) {
                    lockWaits.await(attempt, lock.owner(), () -> {
                        Lock blocker = heldByAnotherOwner(n.id, lock);
                        return blocker == null ? 0 : blocker.owner();
                    });
                } else {
                    attempt.run();
                }
                l.held.record(lock);
                if (lock.type() != Lock.F_UNLCK) {
                    l.mayHoldLocks = true;
                } else if (lock.start() == 0 && lock.end() == Long.MAX_VALUE) {
                    l.mayHoldLocks = false;
                }
                if (lock.type() != Lock.F_WRLCK) {
                    lockWaits.released(); // an unlock, or a downgrade that may let shared waiters in
                }
            } finally {
                l.unpin();
            }
        } finally {
            inodes.unpin(n);
        }
    }

    /** How many lock requests wait for a lock; for tests. */
    int lockWaiters() {
        return lockWaits.waiters();
    }

    @Override
    public void close() {
        for (Handle h : handles.values()) {
            h.drop();
        }
        handles.clear();
        for (LockFd l : lockFds.values()) {
            l.drop();
        }
        lockFds.clear();
        inodes.closeAll();
        PosixFiles.closeQuietly(procFd);
    }
}
