package io.vfsgw.backend.posix;

import io.vfsgw.nativeio.FileHandles;
import io.vfsgw.nativeio.PosixFiles;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.StorageBackend;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Node ids to inodes, keyed also by (st_dev, st_ino) so one host file reached by two names (hard
 * links, a rename seen from two sides) is one node. Node ids are our own counter, never reused. An
 * inode stays while the guest holds a lookup reference or an open handle on it: a guest that
 * forgets a node with the file still open (a hostile kernel may) finds the same node on its next
 * lookup, so a write through the handle changes the node every cache and guest knows the file by.
 *
 * <h2>The fd budget</h2>
 * Each inode holds an O_PATH fd while it has one; with file handles enabled ({@code mountFd} &gt;= 0)
 * at most {@code budget} of them stay open: past it, the inodes that got their fd longest ago and are
 * not in use keep a file handle instead (name_to_handle_at) and get their fd back from
 * open_by_handle_at on the next use (a second-chance FIFO: inodes in use go to the back of the
 * queue). So the number of nodes a guest may hold is not bounded by RLIMIT_NOFILE. Inodes on another
 * mount than the source's (we hold no mount fd for it), and on filesystems without handles, keep
 * their fd. A re-opened fd is checked to be the same (st_dev, st_ino) before it is used.
 */
final class InodeTable {
    private final Map<Long, Inode> byId = new ConcurrentHashMap<>();
    /** Nodes by (st_dev, st_ino); guarded by this. */
    private final Map<LongPair, Inode> byKey = new HashMap<>();
    private final AtomicLong nextId = new AtomicLong(StorageBackend.ROOT_ID + 1);
    /** A real (not O_PATH) fd on the source's mount for open_by_handle_at; -1: handles off. */
    private final int mountFd;
    private final int mountId;
    private final int budget;
    /** O_PATH fds inodes hold now (the root's not counted). */
    private final AtomicInteger openFds = new AtomicInteger();
    /**
     * Inodes holding an fd eviction may take, oldest first; guarded by itself. A linked set, not a
     * queue: a forgotten inode leaves it at once (O(1)), and its size is O(1). A queue kept forgotten
     * inodes until eviction reached them (never, under the budget) and counted itself on every new fd:
     * each create got slower as files came and went.
     */
    private final LinkedHashSet<Inode> withFds = new LinkedHashSet<>();
    private final AtomicLong reopens = new AtomicLong();

    /**
     * @param mountFd an fd on the source's mount opened for reading (owned by the table), or -1 to
     *                keep every inode's fd (--inode-file-handles=never)
     * @param mountId that mount's id ({@link FileHandles.FileHandle#mountId()})
     * @param budget  O_PATH fds kept before idle inodes trade theirs for a handle
     */
    InodeTable(int mountFd, int mountId, int budget) {
        this.mountFd = mountFd;
        this.mountId = mountId;
        this.budget = budget;
    }

    /** Installs the root; it is never forgotten and never gives up its fd. */
    synchronized Inode addRoot(int fd, PosixFiles.Stat st) {
        Inode root = new Inode(StorageBackend.ROOT_ID, fd, st.dev(), st.ino(), st.mode(), false);
        root.lookups = Long.MAX_VALUE / 2;
        byId.put(root.id, root);
        byKey.put(new LongPair(st.dev(), st.ino()), root);
        return root;
    }

    /** The inode of a node id, without taking an fd for it; ESTALE when unknown. */
    Inode known(long id) throws FsException {
        Inode n = byId.get(id);
        if (n == null) {
            throw FsException.of(Errno.ESTALE, "node " + id);
        }
        return n;
    }

    /** The inode for {@code id}, pinned for one operation (caller calls {@link #unpin}), or ESTALE. */
    Inode pin(long id) throws FsException {
        Inode n = known(id);
        boolean opened;
        try {
            opened = n.pin(this::reopen);
        } catch (FsException e) {
            // Out of fds for the reopen: idle inodes give theirs up for handles, then once more.
            if (!isFdExhaustion(e) || shedFds() == 0) {
                throw e;
            }
            opened = n.pin(this::reopen);
        }
        if (opened) {
            fdOpened(n);
        }
        return n;
    }

    /** Returns an operation's pin. */
    void unpin(Inode n) {
        if (n.unpinClosing()) {
            openFds.decrementAndGet();
        }
    }

    /** open_by_handle_at of an inode that kept only its handle, checked to be the same object. */
    private int reopen(Inode n, FileHandles.FileHandle h) throws FsException {
        if (h == null || mountFd < 0) {
            throw FsException.of(Errno.ESTALE, "node " + n.id + " has neither fd nor handle");
        }
        int fd = FileHandles.open(mountFd, h, OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW);
        try {
            PosixFiles.Stat st = PosixFiles.fstat(fd);
            if (st.dev() != n.dev || st.ino() != n.ino) {
                throw FsException.of(Errno.ESTALE, "handle of node " + n.id + " opened another object");
            }
        } catch (FsException e) {
            PosixFiles.closeQuietly(fd);
            throw e;
        }
        reopens.incrementAndGet();
        return fd;
    }

    /** Counts a newly held fd and, over the budget, takes the fds of idle inodes. */
    private void fdOpened(Inode n) {
        openFds.incrementAndGet();
        if (mountFd < 0) {
            return;
        }
        synchronized (withFds) {
            withFds.add(n);
            releaseIdleFds(budget);
        }
    }

    /**
     * The process ran out of fds (EMFILE/ENFILE): trades a quarter of the inodes' fds (at least 32)
     * for file handles, idle ones only, below the budget. Returns how many fds were closed (0
     * without handles).
     */
    int shedFds() {
        if (!handlesEnabled()) {
            return 0;
        }
        synchronized (withFds) {
            int count = Math.max(32, openFds.get() / 4);
            return releaseIdleFds(Math.max(0, openFds.get() - count));
        }
    }

    /** Takes the fds of idle inodes, oldest first, until at most {@code keep} are open; caller holds withFds. */
    private int releaseIdleFds(int keep) {
        int released = 0;
        List<Inode> inUse = new ArrayList<>();
        Iterator<Inode> oldestFirst = withFds.iterator();
        while (openFds.get() > keep && oldestFirst.hasNext()) {
            Inode victim = oldestFirst.next();
            oldestFirst.remove();
            if (victim.releaseFd(mountId)) {
                openFds.decrementAndGet();
                released++;
            } else if (victim.mayRelease()) {
                inUse.add(victim);
            }
        }
        withFds.addAll(inUse); // in use now: second chance, at the back
        return released;
    }

    /**
     * Takes one lookup reference on the object {@code fd} (an O_PATH fd) refers to: the known inode
     * for (dev, ino), closing or keeping {@code fd}, or a new inode that owns {@code fd}.
     *
     * @param mountRoot the object is the root of a mount inside the source (kept for its life)
     */
    Inode adopt(int fd, PosixFiles.Stat st, boolean mountRoot) {
        Inode n;
        boolean kept;
        synchronized (this) {
            LongPair k = new LongPair(st.dev(), st.ino());
            n = byKey.get(k);
            int offered = n == null ? -1 : n.offerFd(fd);
            if (offered >= 0) {
                n.lookups++;
                kept = offered == 1;
            } else {
                // new, or the ino of a deleted object we kept a handle of: that node stays ESTALE
                n = new Inode(nextId.getAndIncrement(), fd, st.dev(), st.ino(), st.mode(), mountRoot);
                n.lookups = 1;
                byId.put(n.id, n);
                byKey.put(k, n);
                kept = true;
            }
        }
        if (kept) {
            fdOpened(n);
        }
        return n;
    }

    /** Takes one more lookup reference on a node the caller holds pinned ("." lookups). */
    synchronized void addLookup(Inode n) {
        n.lookups++;
    }

    /**
     * Returns lookup references; the inode goes (its O_PATH fd closes once no operation uses it) when
     * none remain and no handle is open on it.
     */
    void forget(long id, long count) {
        Inode gone;
        synchronized (this) {
            Inode n = byId.get(id);
            if (n == null || id == StorageBackend.ROOT_ID) {
                return;
            }
            n.lookups = Math.max(0, n.lookups - count);
            gone = removeIfUnused(n);
        }
        dropRemoved(gone);
    }

    /** Counts a handle opened on {@code n}, which the caller holds pinned. */
    synchronized void opened(Inode n) {
        if (byId.get(n.id) == n) {   // else forgotten meanwhile: the handle has its own fd
            n.opens++;
        }
    }

    /** Counts a handle on node {@code id} closed; the inode goes if that was all that kept it. */
    void closed(long id) {
        Inode gone;
        synchronized (this) {
            Inode n = byId.get(id);
            if (n == null || id == StorageBackend.ROOT_ID || n.opens == 0) {
                return;
            }
            n.opens--;
            gone = removeIfUnused(n);
        }
        dropRemoved(gone);
    }

    /** Takes {@code n} out of the table when nothing holds it; returns it then, else null. Caller holds this. */
    private Inode removeIfUnused(Inode n) {
        if (n.lookups > 0 || n.opens > 0) {
            return null;
        }
        byId.remove(n.id);
        byKey.remove(new LongPair(n.dev, n.ino), n);
        return n;
    }

    /** Closes the fd of an inode just taken out of the table (once no operation uses it). */
    private void dropRemoved(Inode gone) {
        if (gone != null) {
            if (gone.drop()) {
                openFds.decrementAndGet();
            }
            synchronized (withFds) {
                withFds.remove(gone);
            }
        }
    }

    /** Our node id for a host inode the guest currently holds, or -1 (readdir's d_ino mapping). */
    synchronized long idOf(long dev, long ino) {
        Inode n = byKey.get(new LongPair(dev, ino));
        return n == null ? -1 : n.id;
    }

    /** Whether idle inodes can trade their fds for file handles. */
    boolean handlesEnabled() {
        return mountFd >= 0;
    }

    /** Whether a failed call ran out of file descriptors (the process's or the system's). */
    static boolean isFdExhaustion(FsException e) {
        return e.errno() == Errno.EMFILE || e.errno() == Errno.ENFILE;
    }

    /** For the start-up log line. */
    String describe() {
        return mountFd < 0 ? "never" : "beyond " + budget + " fds";
    }

    int size() {
        return byId.size();
    }

    /** O_PATH fds held by inodes now, the root's not counted (tests, metrics). */
    int openFds() {
        return openFds.get();
    }

    /** Inodes the eviction order tracks (tests: forgotten ones must not linger). */
    int evictionOrderSize() {
        synchronized (withFds) {
            return withFds.size();
        }
    }

    /** Times an inode got its fd back from its handle (tests, metrics). */
    long reopens() {
        return reopens.get();
    }

    /** Shutdown: drops every inode and the mount fd. */
    synchronized void closeAll() {
        for (Inode n : byId.values()) {
            if (n.drop() && n.id != StorageBackend.ROOT_ID) {
                openFds.decrementAndGet();
            }
        }
        byId.clear();
        byKey.clear();
        synchronized (withFds) {
            withFds.clear();
        }
        PosixFiles.closeQuietly(mountFd);
    }
}
