package io.vfsgw.backend.mem;

import io.vfsgw.locks.LockTable;
import io.vfsgw.locks.LockWaits;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.DirSink;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StatFs;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.spi.WriteSource;
import io.vfsgw.spi.XattrNames;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A POSIX tree held in RAM, like tmpfs: sparse regular files, directories with stable readdir
 * cookies, symlinks, hard links, FIFOs, sockets, device nodes, xattrs, advisory locks, and a byte and
 * inode budget reported by statfs.
 *
 * <h2>Concurrency</h2>
 * One {@link ReentrantReadWriteLock} guards the namespace: lookup and readdir take its read lock,
 * everything that adds, removes or moves a name takes its write lock. Each node has its own
 * read-write lock for attributes and data, so reads of one file run in parallel and writes to
 * different files never meet. Lock order is always namespace, then node (at most two node locks,
 * taken in id order, by copy_file_range), then the node monitor that guards the reference counts.
 * No thread holding a node lock ever asks for the namespace lock.
 *
 * <h2>Lifetime</h2>
 * A node is freed (pages and budget returned, the pages' memory to the kernel at once, id dropped
 * from the table) once it has no link, no lookup reference and no open handle, whichever of
 * unlink/rmdir/rename, forget or release brings the last one to zero. Ids come from a counter and are never reused, so generation is always 0.
 *
 * <h2>Choices a reader should know</h2>
 * <ul>
 *   <li>Data lives in {@link #PAGE_SIZE} pages, each an off-heap buffer of 4 KiB to 64 KiB that grows
 *   with the highest byte written into it ({@link FileNode}); holes cost nothing and read as
 *   zeros. The buffers come from a {@link PagePool} (a memfd mapped into the process), so the GC
 *   never copies file data, and a buffer's memory goes back to the kernel the moment it is truncated
 *   away, punched, or its file freed. The budget counts buffer bytes (which is also what
 *   {@code blocks} reports, in 512-byte units), plus {@link #INODE_COST} per node, symlink targets and xattr names and values. The
 *   largest file is {@link #MAX_FILE_SIZE} (Long.MAX_VALUE rounded down to a page); writes starting
 *   there fail with EFBIG, writes crossing it are cut short. The JVM heap does not bound the budget
 *   (file data is off-heap), the memory the daemon may use does: like tmpfs, a budget larger than
 *   that ends in the kernel's OOM killer, not in ENOSPC ({@link PagePool}).</li>
 *   <li>Times come from the injected {@link Clock} ({@code Clock.systemUTC()} has microsecond
 *   resolution on Linux with Java 17) and are stored in nanoseconds, made strictly increasing across
 *   the backend: each change gets at least the previous stamp + 1 ns, so two changes never share a
 *   ctime and ctime can serve as a change version.</li>
 *   <li>atime is updated relatime-style by read and readdir (when older than mtime/ctime or a
 *   day old), except through O_NOATIME handles.</li>
 *   <li>Writes through an O_APPEND handle go to the current end of file whatever offset the kernel
 *   sent, as pwrite(2) on an O_APPEND host fd does for virtiofsd: another guest may have grown the
 *   file since this kernel last saw its size.</li>
 *   <li>No mode-bit permission checks: the kernel does them (default_permissions) and knows the
 *   caller's supplementary groups. Ownership of new nodes follows ctx, or the directory's group
 *   under a setgid directory.</li>
 *   <li>The root is a 1777 directory owned by root, like a fresh tmpfs mount.</li>
 * </ul>
 */
public final class MemBackend implements StorageBackend {
    /** Page size of file data: 64 KiB. */
    public static final int PAGE_SHIFT = 16;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    /** The largest file size and write end offset: Long.MAX_VALUE rounded down to a page. */
    public static final long MAX_FILE_SIZE = Long.MAX_VALUE & ~(PAGE_SIZE - 1L);
    /** Bytes each node costs in the budget besides its pages. */
    public static final long INODE_COST = 256;
    /**
     * The most one copy_file_range call copies: the FUSE reply carries a 32-bit count, and a bound
     * keeps one request's lock hold short. Callers loop on short copies, as they must anyway.
     */
    public static final long MAX_COPY_CHUNK = 1L << 30;
    /** statfs block size. */
    public static final int STATFS_BLOCK = 4096;

    static final int SYMLINK_MAX = 4095;
    static final int LINK_MAX = Integer.MAX_VALUE - 1;
    private static final long RELATIME_NS = 24L * 3600 * 1_000_000_000L;
    private static final int S_ISGID = 02000;
    private static final int S_IFDIR = FileType.DIRECTORY.modeBits();

    /** One open file description. */
    private record Handle(Node node, int flags) {
    }

    private final Capacity capacity;
    /** Off-heap memory of every file's data. */
    private final PagePool pool = new PagePool("vfsgw-mem");
    private final Clock clock;
    private final ReentrantReadWriteLock namespace = new ReentrantReadWriteLock();
    private final ConcurrentHashMap<Long, Node> nodes = new ConcurrentHashMap<>();
    private final AtomicLong nextId = new AtomicLong(ROOT_ID + 1);
    private final ConcurrentHashMap<Long, Handle> handles = new ConcurrentHashMap<>();
    private final AtomicLong nextFh = new AtomicLong(1);
    private final DirNode root;
    /** Who waits for whom among POSIX lock owners, for EDEADLK. */
    private final LockWaits lockWaits = new LockWaits();
    /** The last timestamp handed out; see {@link #nowNs()}. */
    private final AtomicLong lastNs = new AtomicLong();

    public MemBackend(MemOptions options) {
        this(options, Clock.systemUTC());
    }

    /** With an injected clock, so tests can pin timestamps. */
    public MemBackend(MemOptions options, Clock clock) {
        this.capacity = new Capacity(options.capacityBytes(), options.maxInodes());
        this.clock = clock;
        try {
            capacity.reserveInode(INODE_COST);
        } catch (FsException e) {
            throw new IllegalArgumentException("capacity too small for the root directory", e);
        }
        root = new DirNode(ROOT_ID, S_IFDIR | 01777, 0, 0, nowNs());
        root.parent = root;
        root.nlink = 2;
        root.fixedCost = INODE_COST;
        nodes.put(ROOT_ID, root);
    }

    @Override
    public String name() {
        return "mem";
    }

    // ---------------------------------------------------------------- names

    @Override
    public Entry lookup(RequestContext ctx, long parent, FileName name) throws FsException {
        Node n;
        Lock r = namespace.readLock();
        r.lock();
        try {
            DirNode d = liveDir(parent);
            if (name.isDotOrDotDot()) {
                n = name.length() == 1 ? d : d.parent;
            } else {
                n = d.get(name);
            }
            if (n == null) {
                throw FsException.of(Errno.ENOENT);
            }
            takeRef(n);
        } finally {
            r.unlock();
        }
        return entryOf(n); // outside the namespace lock: a busy writer of n must not stall lookups
    }

    @Override
    public void forget(long node, long nlookup) {
        Node n = nodes.get(node);
        if (n == null || n == root || nlookup <= 0) {
            return;
        }
        boolean free;
        synchronized (n) {
            n.lookupRefs = Math.max(0, n.lookupRefs - nlookup);
            free = claimIfDead(n);
        }
        if (free) {
            destroy(n);
        }
    }

    @Override
    public Attr getattr(RequestContext ctx, long node, long fh) throws FsException {
        return attr(node(node));
    }

    @Override
    public Attr setattr(RequestContext ctx, long node, SetAttr c) throws FsException {
        Node n = node(node);
        if (c.size() != null) {
            if (n.isDir()) {
                throw FsException.of(Errno.EISDIR);
            }
            if (!n.isRegular()) {
                throw FsException.of(Errno.EINVAL, "truncate of a special file");
            }
            if (c.size() < 0) {
                throw FsException.of(Errno.EINVAL, "negative size");
            }
            if (c.size() > MAX_FILE_SIZE) {
                throw FsException.of(Errno.EFBIG);
            }
        }
        Lock w = n.lock.writeLock();
        w.lock();
        try {
            long now = nowNs();
            boolean changed = false;
            if (c.size() != null) {
                ((FileNode) n).truncate(c.size(), capacity);
                n.mtimeNs = now;
                changed = true;
            }
            if (c.uid() != null || c.gid() != null) {
                if (c.uid() != null) {
                    n.uid = c.uid();
                }
                if (c.gid() != null) {
                    n.gid = c.gid();
                }
                if (!n.isDir()) {
                    killSuidGid(n); // as Linux does on any chown of a non-directory
                }
                changed = true;
            }
            if (c.killSuidGid() || (c.changesNothing() && !n.isDir()
                    && SetAttr.emptySetattrClearsSetuid(ctx.isRoot(), ctx.uid(), ctx.gid(), n.uid, n.gid, n.mode))) {
                killSuidGid(n);
                changed = true;
            }
            changed |= c.changesNothing();
            if (c.mode() != null) {
                n.mode = (n.mode & FileType.S_IFMT) | (c.mode() & 07777);
                changed = true;
            }
            if (c.atimeNow() || c.atimeNs() != null) {
                n.atimeNs = c.atimeNow() ? now : c.atimeNs();
                changed = true;
            }
            if (c.mtimeNow() || c.mtimeNs() != null) {
                n.mtimeNs = c.mtimeNow() ? now : c.mtimeNs();
                changed = true;
            }
            if (c.ctimeNs() != null) {
                n.ctimeNs = c.ctimeNs(); // the kernel's own ctime (writeback cache)
            } else if (changed) {
                n.ctimeNs = now;
            }
            return attrLocked(n);
        } finally {
            w.unlock();
        }
    }

    @Override
    public byte[] readlink(RequestContext ctx, long node) throws FsException {
        Node n = node(node);
        if (n.target == null) {
            throw FsException.of(Errno.EINVAL, "not a symlink");
        }
        return n.target.clone();
    }

    @Override
    public Entry symlink(RequestContext ctx, long parent, FileName name, byte[] target) throws FsException {
        if (target.length == 0) {
            throw FsException.of(Errno.ENOENT, "empty symlink target");
        }
        if (target.length > SYMLINK_MAX) {
            throw FsException.of(Errno.ENAMETOOLONG, "symlink target of " + target.length + " bytes");
        }
        byte[] copy = target.clone();
        return createNamed(ctx, parent, name, INODE_COST + copy.length,
                (id, gid, now) -> new Node(id, FileType.SYMLINK.modeBits() | 0777, ctx.uid(), gid, now, 0, copy));
    }

    @Override
    public Entry mknod(RequestContext ctx, long parent, FileName name, int mode, int rdev, int umask)
            throws FsException {
        int type = mode & FileType.S_IFMT;
        int perm = mode & 07777;
        FileType t = type == 0 ? FileType.REGULAR : FileType.ofMode(type);
        if (t == FileType.DIRECTORY) {
            throw FsException.of(Errno.EPERM, "mknod of a directory");
        }
        if (t == null || t == FileType.SYMLINK) {
            throw FsException.of(Errno.EINVAL, "mknod type " + Integer.toOctalString(type));
        }
        int dev = (t == FileType.CHARACTER_DEVICE || t == FileType.BLOCK_DEVICE) ? rdev : 0;
        return createNamed(ctx, parent, name, INODE_COST, (id, gid, now) -> t == FileType.REGULAR
                ? new FileNode(id, t.modeBits() | perm, ctx.uid(), gid, now, pool)
                : new Node(id, t.modeBits() | perm, ctx.uid(), gid, now, dev, null));
    }

    @Override
    public Entry mkdir(RequestContext ctx, long parent, FileName name, int mode, int umask) throws FsException {
        return createNamed(ctx, parent, name, INODE_COST, (id, gid, now) -> {
            // Linux keeps only the permission and sticky bits; setgid is inherited, never asked for.
            return new DirNode(id, S_IFDIR | (mode & 01777), ctx.uid(), gid, now);
        });
    }

    @Override
    public void unlink(RequestContext ctx, long parent, FileName name) throws FsException {
        Lock w = namespace.writeLock();
        w.lock();
        try {
            DirNode d = dir(parent);
            if (name.isDotOrDotDot()) {
                throw FsException.of(Errno.EISDIR);
            }
            Node n = d.get(name);
            if (n == null) {
                throw FsException.of(Errno.ENOENT);
            }
            if (n.isDir()) {
                throw FsException.of(Errno.EISDIR);
            }
            d.remove(name);
            long now = nowNs();
            touchDir(d, now);
            dropLink(n, now);
        } finally {
            w.unlock();
        }
    }

    @Override
    public void rmdir(RequestContext ctx, long parent, FileName name) throws FsException {
        Lock w = namespace.writeLock();
        w.lock();
        try {
            DirNode d = dir(parent);
            if (name.isDotOrDotDot()) {
                throw FsException.of(name.length() == 1 ? Errno.EINVAL : Errno.ENOTEMPTY);
            }
            Node n = d.get(name);
            if (n == null) {
                throw FsException.of(Errno.ENOENT);
            }
            if (!n.isDir()) {
                throw FsException.of(Errno.ENOTDIR);
            }
            if (!((DirNode) n).isEmpty()) {
                throw FsException.of(Errno.ENOTEMPTY);
            }
            d.remove(name);
            long now = nowNs();
            adjustNlink(d, -1);
            touchDir(d, now);
            dropLink(n, now);
        } finally {
            w.unlock();
        }
    }

    @Override
    public void rename(RequestContext ctx, long parent, FileName name, long newParent, FileName newName, int flags)
            throws FsException {
        if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0
                || flags == (RENAME_NOREPLACE | RENAME_EXCHANGE)) {
            throw FsException.of(Errno.EINVAL, "rename flags " + flags);
        }
        boolean exchange = (flags & RENAME_EXCHANGE) != 0;
        if (name.isDotOrDotDot() || newName.isDotOrDotDot()) {
            throw FsException.of(Errno.EBUSY, "rename of . or ..");
        }
        Lock w = namespace.writeLock();
        w.lock();
        try {
            DirNode from = dir(parent);
            DirNode to = liveDir(newParent);
            Node s = from.get(name);
            if (s == null) {
                throw FsException.of(Errno.ENOENT);
            }
            Node t = to.get(newName);
            if (exchange && t == null) {
                throw FsException.of(Errno.ENOENT);
            }
            if ((flags & RENAME_NOREPLACE) != 0 && t != null) {
                throw FsException.of(Errno.EEXIST);
            }
            if (s.isDir() && isWithin(to, (DirNode) s)) {
                throw FsException.of(Errno.EINVAL, "directory moved into its own subtree");
            }
            if (exchange && t.isDir() && isWithin(from, (DirNode) t)) {
                throw FsException.of(Errno.EINVAL, "directory moved into its own subtree");
            }
            if (s == t) {
                return; // two names of one inode: POSIX says do nothing
            }
            if (!exchange && t != null) {
                if (s.isDir() && !t.isDir()) {
                    throw FsException.of(Errno.ENOTDIR);
                }
                if (!s.isDir() && t.isDir()) {
                    throw FsException.of(Errno.EISDIR);
                }
                if (t.isDir() && !((DirNode) t).isEmpty()) {
                    throw FsException.of(Errno.ENOTEMPTY);
                }
            }
            long now = nowNs();
            if (exchange) {
                from.put(name, t);
                to.put(newName, s);
                if (from != to) {
                    reparent(s, from, to);
                    reparent(t, to, from);
                }
                touchCtime(t, now);
            } else {
                from.remove(name);
                to.put(newName, s);
                if (from != to) {
                    reparent(s, from, to);
                }
                if (t != null) {
                    if (t.isDir()) {
                        adjustNlink(to, -1);
                    }
                    dropLink(t, now);
                }
            }
            touchCtime(s, now);
            touchDir(from, now);
            if (to != from) {
                touchDir(to, now);
            }
        } finally {
            w.unlock();
        }
    }

    @Override
    public Entry link(RequestContext ctx, long node, long newParent, FileName newName) throws FsException {
        Node n;
        Lock w = namespace.writeLock();
        w.lock();
        try {
            n = node(node);
            if (n.isDir()) {
                throw FsException.of(Errno.EPERM, "hard link to a directory");
            }
            DirNode d = liveDir(newParent);
            if (newName.isDotOrDotDot() || d.get(newName) != null) {
                throw FsException.of(Errno.EEXIST);
            }
            synchronized (n) {
                if (n.freed || (n.nlink == 0 && !n.linkable)) {
                    throw FsException.of(Errno.ENOENT, "node has no links left");
                }
                if (n.nlink >= LINK_MAX) {
                    throw FsException.of(Errno.EMLINK);
                }
                n.nlink++;
                n.linkable = false;
            }
            d.put(newName, n);
            long now = nowNs();
            touchCtime(n, now);
            touchDir(d, now);
            takeRef(n);
        } finally {
            w.unlock();
        }
        return entryOf(n);
    }

    // ---------------------------------------------------------------- files

    @Override
    public OpenResult open(RequestContext ctx, long node, int flags) throws FsException {
        Node n = node(node);
        if (n.isDir() && OpenFlags.isWritable(flags)) {
            throw FsException.of(Errno.EISDIR);
        }
        if (n.target != null) {
            throw FsException.of(Errno.ELOOP, "open of a symlink");
        }
        if (n.isRegular() && (flags & OpenFlags.O_TRUNC) != 0) {
            truncateOnOpen((FileNode) n);
        }
        return OpenResult.of(newHandle(n, flags));
    }

    @Override
    public CreateResult create(RequestContext ctx, long parent, FileName name, int mode, int flags, int umask)
            throws FsException {
        Node existing;
        Lock w = namespace.writeLock();
        w.lock();
        try {
            existing = liveDir(parent).get(name);
            if (existing == null || name.isDotOrDotDot()) {
                Entry e = createNamed(ctx, parent, name, INODE_COST, (id, gid, now) ->
                        new FileNode(id, FileType.REGULAR.modeBits() | (mode & 07777), ctx.uid(), gid, now, pool));
                return new CreateResult(e, OpenResult.of(newHandle(nodes.get(e.nodeId()), flags)));
            }
            // Another creator won the race: O_EXCL fails, plain O_CREAT opens what is there.
            if ((flags & OpenFlags.O_EXCL) != 0) {
                throw FsException.of(Errno.EEXIST);
            }
            if (existing.isDir()) {
                throw FsException.of(Errno.EISDIR);
            }
            takeRef(existing);
        } finally {
            w.unlock();
        }
        try {
            OpenResult opened = open(ctx, existing.id, flags); // may truncate: outside the namespace lock
            return new CreateResult(entryOf(existing), opened);
        } catch (FsException ex) {
            forget(existing.id, 1);
            throw ex;
        }
    }

    @Override
    public CreateResult tmpfile(RequestContext ctx, long parent, int mode, int flags, int umask) throws FsException {
        Lock r = namespace.readLock();
        r.lock();
        try {
            DirNode d = liveDir(parent);
            capacity.reserveInode(INODE_COST);
            long now = nowNs();
            FileNode f = new FileNode(nextId.getAndIncrement(), FileType.REGULAR.modeBits() | (mode & 07777),
                    ctx.uid(), groupFor(ctx, d), now, pool);
            f.fixedCost = INODE_COST;
            f.nlink = 0;
            f.linkable = (flags & OpenFlags.O_EXCL) == 0; // O_TMPFILE|O_EXCL may never be linked
            f.lookupRefs = 1;
            nodes.put(f.id, f);
            Entry e = new Entry(f.id, 0, attr(f));
            return new CreateResult(e, OpenResult.of(newHandle(f, flags)));
        } finally {
            r.unlock();
        }
    }

    @Override
    public void read(RequestContext ctx, long node, long fh, long offset, ReadSink sink) throws FsException {
        Handle h = handle(fh, node);
        if (!OpenFlags.isReadable(h.flags())) {
            throw FsException.of(Errno.EBADF, "handle not open for reading");
        }
        FileNode f = regular(h.node());
        if (offset < 0) {
            throw FsException.of(Errno.EINVAL, "negative offset");
        }
        Lock r = f.lock.readLock();
        r.lock();
        try {
            f.read(offset, sink);
            if ((h.flags() & OpenFlags.O_NOATIME) == 0) {
                relatime(f);
            }
        } finally {
            r.unlock();
        }
    }

    @Override
    public int write(RequestContext ctx, long node, long fh, long offset, WriteSource data, boolean killSuidGid)
            throws FsException {
        Handle h = handle(fh, node);
        if (!OpenFlags.isWritable(h.flags())) {
            throw FsException.of(Errno.EBADF, "handle not open for writing");
        }
        FileNode f = regular(h.node());
        if (offset < 0) {
            throw FsException.of(Errno.EINVAL, "negative offset");
        }
        int length = data.remaining();
        if (length == 0) {
            return 0;
        }
        Lock w = f.lock.writeLock();
        w.lock();
        try {
            long at = (h.flags() & OpenFlags.O_APPEND) != 0 ? f.size : offset;
            if (at >= MAX_FILE_SIZE) {
                throw FsException.of(Errno.EFBIG);
            }
            int n = f.write(at, data, (int) Math.min(length, MAX_FILE_SIZE - at), capacity);
            if (n > 0) {
                long now = nowNs();
                f.mtimeNs = now;
                f.ctimeNs = now;
                if (killSuidGid) {
                    killSuidGid(f);
                }
            }
            return n;
        } finally {
            w.unlock();
        }
    }

    @Override
    public void flush(RequestContext ctx, long node, long fh, long lockOwner) throws FsException {
        Node n = nodes.get(node);
        LockTable locks = n == null ? null : n.locksIfAny();
        if (locks != null) {
            locks.releaseOwner(lockOwner); // close(2) drops the process's POSIX locks on the file
        }
    }

    @Override
    public void release(RequestContext ctx, long node, long fh, int flags, long lockOwner) throws FsException {
        closeHandle(fh);
    }

    @Override
    public OpenResult opendir(RequestContext ctx, long node, int flags) throws FsException {
        Node n = node(node);
        if (!n.isDir()) {
            throw FsException.of(Errno.ENOTDIR);
        }
        return OpenResult.of(newHandle(n, flags));
    }

    @Override
    public void readdir(RequestContext ctx, long node, long fh, long cookie, DirSink sink) throws FsException {
        Lock r = namespace.readLock();
        r.lock();
        try {
            DirNode d = liveDir(node);
            if (cookie < DirNode.DOT_COOKIE
                    && !sink.add(new DirEntry(FileName.literal("."), d.id, FileType.DIRECTORY, DirNode.DOT_COOKIE))) {
                return;
            }
            if (cookie < DirNode.DOTDOT_COOKIE && !sink.add(
                    new DirEntry(FileName.literal(".."), d.parent.id, FileType.DIRECTORY, DirNode.DOTDOT_COOKIE))) {
                return;
            }
            for (DirNode.Dirent e : d.after(Math.max(cookie, DirNode.DOTDOT_COOKIE))) {
                if (!sink.add(new DirEntry(e.name(), e.node().id, e.node().type(), e.cookie()))) {
                    break;
                }
            }
            Lock dr = d.lock.readLock();
            dr.lock();
            try {
                relatime(d);
            } finally {
                dr.unlock();
            }
        } finally {
            r.unlock();
        }
    }

    @Override
    public void releasedir(RequestContext ctx, long node, long fh) throws FsException {
        closeHandle(fh);
    }

    @Override
    public StatFs statfs(RequestContext ctx, long node) throws FsException {
        long total = capacity.maxBytes() / STATFS_BLOCK;
        long free = Math.max(0, capacity.maxBytes() - capacity.usedBytes()) / STATFS_BLOCK;
        long filesFree = Math.max(0, capacity.maxInodes() - capacity.usedInodes());
        return new StatFs(total, free, free, capacity.maxInodes(), filesFree, STATFS_BLOCK,
                FileName.MAX_LENGTH, STATFS_BLOCK);
    }

    // ---------------------------------------------------------------- xattrs

    @Override
    public byte[] getxattr(RequestContext ctx, long node, String name) throws FsException {
        Node n = node(node);
        XattrNames.check(ctx, n.type(), name, false);
        Lock r = n.lock.readLock();
        r.lock();
        try {
            byte[] v = n.xattrs == null ? null : n.xattrs.get(name);
            if (v == null) {
                throw FsException.of(Errno.ENODATA);
            }
            return v.clone();
        } finally {
            r.unlock();
        }
    }

    @Override
    public void setxattr(RequestContext ctx, long node, String name, byte[] value, int flags) throws FsException {
        Node n = node(node);
        if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0) {
            throw FsException.of(Errno.EINVAL, "xattr flags " + flags);
        }
        int nameLen = XattrNames.check(ctx, n.type(), name, true);
        if (value.length > XattrNames.SIZE_MAX) {
            throw FsException.of(Errno.E2BIG, "xattr value of " + value.length + " bytes");
        }
        Lock w = n.lock.writeLock();
        w.lock();
        try {
            byte[] old = n.xattrs == null ? null : n.xattrs.get(name);
            if (old != null && (flags & XATTR_CREATE) != 0) {
                throw FsException.of(Errno.EEXIST);
            }
            if (old == null && (flags & XATTR_REPLACE) != 0) {
                throw FsException.of(Errno.ENODATA);
            }
            long delta = value.length - (old == null ? -nameLen : old.length);
            if (delta > 0) {
                capacity.reserveBytes(delta);
            } else {
                capacity.releaseBytes(-delta);
            }
            n.fixedCost += delta;
            if (n.xattrs == null) {
                n.xattrs = Node.newXattrMap();
            }
            n.xattrs.put(name, value.clone());
            n.ctimeNs = nowNs();
        } finally {
            w.unlock();
        }
    }

    @Override
    public List<String> listxattr(RequestContext ctx, long node) throws FsException {
        Node n = node(node);
        Lock r = n.lock.readLock();
        r.lock();
        try {
            List<String> names = new ArrayList<>();
            if (n.xattrs != null) {
                for (String k : n.xattrs.keySet()) {
                    if (XattrNames.listable(ctx, k)) {
                        names.add(k);
                    }
                }
            }
            return names;
        } finally {
            r.unlock();
        }
    }

    @Override
    public void removexattr(RequestContext ctx, long node, String name) throws FsException {
        Node n = node(node);
        int nameLen = XattrNames.check(ctx, n.type(), name, true);
        Lock w = n.lock.writeLock();
        w.lock();
        try {
            byte[] old = n.xattrs == null ? null : n.xattrs.remove(name);
            if (old == null) {
                throw FsException.of(Errno.ENODATA);
            }
            capacity.releaseBytes(nameLen + old.length);
            n.fixedCost -= nameLen + old.length;
            n.ctimeNs = nowNs();
        } finally {
            w.unlock();
        }
    }

    // ---------------------------------------------------------------- space

    @Override
    public void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length)
            throws FsException {
        Handle h = handle(fh, node);
        if (!OpenFlags.isWritable(h.flags())) {
            throw FsException.of(Errno.EBADF, "handle not open for writing");
        }
        if (h.node().isDir()) {
            throw FsException.of(Errno.EISDIR);
        }
        if (!h.node().isRegular()) {
            throw FsException.of(Errno.ENODEV);
        }
        FileNode f = (FileNode) h.node();
        if (offset < 0 || length <= 0) {
            throw FsException.of(Errno.EINVAL, "fallocate range " + offset + "+" + length);
        }
        if (length > MAX_FILE_SIZE - offset) {
            throw FsException.of(Errno.EFBIG);
        }
        long end = offset + length;
        boolean keepSize = (mode & FALLOC_FL_KEEP_SIZE) != 0;
        int op = mode & ~FALLOC_FL_KEEP_SIZE;
        Lock w = f.lock.writeLock();
        w.lock();
        try {
            long now = nowNs();
            if (op == 0) {
                f.allocate(offset, end, capacity);
                if (!keepSize && end > f.size) {
                    f.size = end;
                    f.mtimeNs = now;
                    f.ctimeNs = now;
                }
            } else if (op == FALLOC_FL_PUNCH_HOLE && keepSize) {
                f.punch(offset, end, capacity);
                f.mtimeNs = now;
                f.ctimeNs = now;
            } else if (op == FALLOC_FL_ZERO_RANGE) {
                // Zeroed whole pages become holes (they read the same); partial pages are cleared.
                f.punch(offset, end, capacity);
                if (!keepSize && end > f.size) {
                    f.size = end;
                }
                f.mtimeNs = now;
                f.ctimeNs = now;
            } else {
                throw FsException.of(Errno.EOPNOTSUPP, "fallocate mode 0x" + Integer.toHexString(mode));
            }
        } finally {
            w.unlock();
        }
    }

    @Override
    public long lseek(RequestContext ctx, long node, long fh, long offset, int whence) throws FsException {
        if (whence != SEEK_DATA && whence != SEEK_HOLE) {
            throw FsException.of(Errno.EINVAL, "whence " + whence);
        }
        FileNode f = regular(node(node));
        Lock r = f.lock.readLock();
        r.lock();
        try {
            return whence == SEEK_DATA ? f.seekData(offset) : f.seekHole(offset);
        } finally {
            r.unlock();
        }
    }

    @Override
    public long copyFileRange(RequestContext ctx, long nodeIn, long fhIn, long offIn,
                              long nodeOut, long fhOut, long offOut, long length, int flags) throws FsException {
        if (flags != 0) {
            throw FsException.of(Errno.EINVAL, "copy_file_range flags " + flags);
        }
        Handle in = handle(fhIn, nodeIn);
        Handle out = handle(fhOut, nodeOut);
        if (!OpenFlags.isReadable(in.flags()) || !OpenFlags.isWritable(out.flags())
                || (out.flags() & OpenFlags.O_APPEND) != 0) {
            throw FsException.of(Errno.EBADF);
        }
        FileNode src = regular(in.node());
        FileNode dst = regular(out.node());
        if (offIn < 0 || offOut < 0 || length < 0) {
            throw FsException.of(Errno.EINVAL);
        }
        // Node locks in id order; one write lock when both ends are the same file.
        Lock first;
        Lock second;
        if (src == dst) {
            first = dst.lock.writeLock();
            second = null;
        } else if (src.id < dst.id) {
            first = src.lock.readLock();
            second = dst.lock.writeLock();
        } else {
            first = dst.lock.writeLock();
            second = src.lock.readLock();
        }
        first.lock();
        if (second != null) {
            second.lock();
        }
        try {
            long n = Math.min(Math.min(length, MAX_COPY_CHUNK), Math.max(0, src.size - offIn));
            if (n == 0) {
                return 0;
            }
            if (offOut >= MAX_FILE_SIZE) {
                throw FsException.of(Errno.EFBIG);
            }
            n = Math.min(n, MAX_FILE_SIZE - offOut);
            if (src == dst && offIn < offOut + n && offOut < offIn + n) {
                throw FsException.of(Errno.EINVAL, "overlapping ranges in one file");
            }
            long copied = dst.copyFrom(src, offIn, offOut, n, capacity);
            long now = nowNs();
            dst.mtimeNs = now;
            dst.ctimeNs = now;
            return copied;
        } finally {
            if (second != null) {
                second.unlock();
            }
            first.unlock();
        }
    }

    // ---------------------------------------------------------------- locks

    @Override
    public io.vfsgw.spi.Lock getlk(RequestContext ctx, long node, long fh, io.vfsgw.spi.Lock lock)
            throws FsException {
        return node(node).locks(lockWaits).test(lock);
    }

    @Override
    public void setlk(RequestContext ctx, long node, long fh, io.vfsgw.spi.Lock lock, boolean sleep, boolean flock)
            throws FsException {
        node(node).locks(lockWaits).set(fh, lock, sleep, flock);
    }

    /** The lock table of a node (created if needed); for tests. */
    LockTable lockTable(long node) throws FsException {
        return node(node).locks(lockWaits);
    }

    // ---------------------------------------------------------------- internals

    /** Builds the node for {@link #createNamed}: id, owning group and creation time given. */
    @FunctionalInterface
    private interface NodeFactory {
        Node make(long id, int gid, long nowNs);
    }

    /** Creates a named node in {@code parent} and returns it with one lookup reference. */
    private Entry createNamed(RequestContext ctx, long parent, FileName name, long cost, NodeFactory factory)
            throws FsException {
        Lock w = namespace.writeLock();
        w.lock();
        try {
            DirNode d = liveDir(parent);
            if (name.isDotOrDotDot() || d.get(name) != null) {
                throw FsException.of(Errno.EEXIST);
            }
            if (d.nlink >= LINK_MAX) {
                throw FsException.of(Errno.EMLINK);
            }
            capacity.reserveInode(cost);
            long now = nowNs();
            Node n = factory.make(nextId.getAndIncrement(), groupFor(ctx, d), now);
            n.fixedCost = cost;
            n.lookupRefs = 1;
            if (n instanceof DirNode sub) {
                sub.nlink = 2;
                sub.parent = d;
                if ((d.mode & S_ISGID) != 0) {
                    sub.mode |= S_ISGID; // setgid directories propagate to new subdirectories
                }
                adjustNlink(d, +1);
            } else {
                n.nlink = 1;
            }
            nodes.put(n.id, n);
            d.put(name, n);
            touchDir(d, now);
            return new Entry(n.id, 0, attr(n));
        } finally {
            w.unlock();
        }
    }

    private static int groupFor(RequestContext ctx, DirNode parent) {
        return (parent.mode & S_ISGID) != 0 ? parent.gid : ctx.gid();
    }

    private void truncateOnOpen(FileNode f) {
        Lock w = f.lock.writeLock();
        w.lock();
        try {
            f.truncate(0, capacity);
            long now = nowNs();
            f.mtimeNs = now;
            f.ctimeNs = now;
        } finally {
            w.unlock();
        }
    }

    private long newHandle(Node n, int flags) throws FsException {
        synchronized (n) {
            if (n.freed) {
                throw FsException.of(Errno.ESTALE);
            }
            n.openHandles++;
        }
        long fh = nextFh.getAndIncrement();
        handles.put(fh, new Handle(n, flags));
        return fh;
    }

    private void closeHandle(long fh) {
        Handle h = handles.remove(fh);
        if (h == null) {
            return;
        }
        Node n = h.node();
        LockTable locks = n.locksIfAny();
        if (locks != null) {
            locks.releaseFlock(fh);
        }
        boolean free;
        synchronized (n) {
            n.openHandles--;
            free = claimIfDead(n);
        }
        if (free) {
            destroy(n);
        }
    }

    /** Under the node's monitor: true (once) when nothing holds the node any more. */
    private boolean claimIfDead(Node n) {
        if (!n.freed && n != root && n.nlink == 0 && n.lookupRefs == 0 && n.openHandles == 0) {
            n.freed = true;
            return true;
        }
        return false;
    }

    /** Returns a dead node's pages and budget. */
    private void destroy(Node n) {
        nodes.remove(n.id);
        Lock w = n.lock.writeLock();
        w.lock();
        try {
            if (n instanceof FileNode f) {
                f.releaseAll(capacity);
            }
            capacity.releaseInode(n.fixedCost);
            n.fixedCost = 0;
        } finally {
            w.unlock();
        }
    }

    /** Removes one link of {@code n} (a directory loses all); frees it if nothing else holds it. */
    private void dropLink(Node n, long now) {
        boolean free;
        synchronized (n) {
            n.nlink = n.isDir() ? 0 : n.nlink - 1;
            free = claimIfDead(n);
        }
        if (free) {
            destroy(n);
        } else {
            touchCtime(n, now);
        }
    }

    private static void adjustNlink(Node n, int delta) {
        synchronized (n) {
            n.nlink += delta;
        }
    }

    /** A directory moved from one parent to another: ".." and the parents' link counts follow. */
    private static void reparent(Node n, DirNode from, DirNode to) {
        if (n instanceof DirNode d) {
            d.parent = to;
            adjustNlink(from, -1);
            adjustNlink(to, +1);
        }
    }

    /** True when {@code d} is {@code ancestor} or lies below it. */
    private static boolean isWithin(DirNode d, DirNode ancestor) {
        for (DirNode x = d; ; x = x.parent) {
            if (x == ancestor) {
                return true;
            }
            if (x.parent == x) {
                return false;
            }
        }
    }

    /**
     * Name changes stamp times without the node lock (times are volatile), so a namespace change
     * never waits behind a read or write of the file it renames or links.
     */
    private static void touchDir(DirNode d, long now) {
        d.mtimeNs = now;
        d.ctimeNs = now;
    }

    private static void touchCtime(Node n, long now) {
        n.ctimeNs = now;
    }

    /** relatime: bump atime only when it is not newer than mtime/ctime or is a day old. */
    private void relatime(Node n) {
        long a = n.atimeNs;
        if (a <= n.mtimeNs || a <= n.ctimeNs || clockNs() - a >= RELATIME_NS) {
            n.atimeNs = nowNs(); // the shared counter only when atime really moves
        }
    }

    private static void killSuidGid(Node n) {
        n.mode = SetAttr.withoutSetuid(n.mode);
    }

    /** Takes one lookup reference (the caller holds the namespace lock, so n is still linked). */
    private static void takeRef(Node n) throws FsException {
        synchronized (n) {
            if (n.freed) {
                throw FsException.of(Errno.ESTALE);
            }
            n.lookupRefs++;
        }
    }

    private Entry entryOf(Node n) {
        return new Entry(n.id, 0, attr(n));
    }

    private Attr attr(Node n) {
        Lock r = n.lock.readLock();
        r.lock();
        try {
            return attrLocked(n);
        } finally {
            r.unlock();
        }
    }

    private static Attr attrLocked(Node n) {
        return new Attr(n.id, n.size(), n.blocks(), n.atimeNs, n.mtimeNs, n.ctimeNs, n.mode, n.nlink,
                n.uid, n.gid, n.rdev, PAGE_SIZE);
    }

    private Node node(long id) throws FsException {
        Node n = nodes.get(id);
        if (n == null) {
            throw FsException.of(Errno.ESTALE, "node " + id);
        }
        return n;
    }

    private DirNode dir(long id) throws FsException {
        Node n = node(id);
        if (!(n instanceof DirNode d)) {
            throw FsException.of(Errno.ENOTDIR);
        }
        return d;
    }

    /** A directory that still has its name: creating in or listing a removed one is ENOENT. */
    private DirNode liveDir(long id) throws FsException {
        DirNode d = dir(id);
        if (d.nlink == 0) {
            throw FsException.of(Errno.ENOENT, "directory was removed");
        }
        return d;
    }

    private static FileNode regular(Node n) throws FsException {
        if (n instanceof FileNode f) {
            return f;
        }
        throw FsException.of(n.isDir() ? Errno.EISDIR : Errno.EINVAL);
    }

    private Handle handle(long fh, long node) throws FsException {
        Handle h = handles.get(fh);
        if (h == null || h.node().id != node) {
            throw FsException.of(Errno.EBADF, "handle " + fh + " for node " + node);
        }
        return h;
    }

    /** The time for a change: the clock, but strictly after every stamp handed out before. */
    private long nowNs() {
        long c = clockNs();
        return lastNs.accumulateAndGet(c, (last, now) -> Math.max(last + 1, now));
    }

    private long clockNs() {
        Instant i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    /**
     * Frees every file's data (its memory goes back to the kernel now) and closes the off-heap pool.
     * Calls after this see empty files and fail with EIO where they would need new data memory. A
     * backend dropped without close gets its memory back once the GC finds it unreachable.
     */
    @Override
    public void close() {
        // Allocation stops first (EIO), so no writer can install a block after its file was emptied;
        // then each file is emptied under its write lock, which waits for the reads and writes in
        // flight; only then is the pool's memfd closed.
        pool.stopAllocating();
        for (Node n : nodes.values()) {
            if (n instanceof FileNode f) {
                Lock w = f.lock.writeLock();
                w.lock();
                try {
                    f.releaseAll(capacity);
                } finally {
                    w.unlock();
                }
            }
        }
        pool.close();
    }

    /** The off-heap memory of file data; for tests and metrics. */
    PagePool pagePool() {
        return pool;
    }

    /** Bytes of the budget in use; for tests and metrics. */
    public long usedBytes() {
        return capacity.usedBytes();
    }

    /** Nodes alive (the root included); for tests and metrics. */
    public long usedInodes() {
        return capacity.usedInodes();
    }
}
