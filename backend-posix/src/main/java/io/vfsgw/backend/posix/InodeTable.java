package io.vfsgw.backend.posix;

import io.vfsgw.nativeio.PosixFiles;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.StorageBackend;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Node ids to inodes, keyed also by (st_dev, st_ino) so one host file reached by two names (hard
 * links, a rename seen from two sides) is one node. Node ids are our own counter, never reused; the
 * host ino cannot be reused while we hold an fd on it.
 */
final class InodeTable {
    private record Key(long dev, long ino) {
    }

    private final Map<Long, Inode> byId = new ConcurrentHashMap<>();
    private final Map<Key, Inode> byKey = new HashMap<>(); // guarded by this
    private final AtomicLong nextId = new AtomicLong(StorageBackend.ROOT_ID + 1);

    /** Installs the root; it is never forgotten. */
    synchronized Inode addRoot(int fd, PosixFiles.Stat st) {
        Inode root = new Inode(StorageBackend.ROOT_ID, fd, st.dev(), st.ino(), st.mode());
        root.lookups = Long.MAX_VALUE / 2;
        byId.put(root.id, root);
        byKey.put(new Key(st.dev(), st.ino()), root);
        return root;
    }

    /** The inode for {@code id}, pinned for one operation (caller unpins), or ESTALE. */
    Inode pin(long id) throws FsException {
        Inode n = byId.get(id);
        if (n == null || !n.tryPin()) {
            throw FsException.of(Errno.ESTALE, "node " + id);
        }
        return n;
    }

    /**
     * Takes one lookup reference on the object {@code fd} (an O_PATH fd) refers to: the known inode
     * for (dev, ino), closing {@code fd}, or a new inode that owns {@code fd}.
     */
    synchronized Inode adopt(int fd, PosixFiles.Stat st) {
        Key k = new Key(st.dev(), st.ino());
        Inode n = byKey.get(k);
        if (n != null) {
            n.lookups++;
            PosixFiles.closeQuietly(fd);
            return n;
        }
        n = new Inode(nextId.getAndIncrement(), fd, st.dev(), st.ino(), st.mode());
        n.lookups = 1;
        byId.put(n.id, n);
        byKey.put(k, n);
        return n;
    }

    /** Takes one more lookup reference on a node the caller holds pinned ("." lookups). */
    synchronized void addLookup(Inode n) {
        n.lookups++;
    }

    /** Returns lookup references; the O_PATH fd closes when none remain and no operation uses it. */
    void forget(long id, long count) {
        Inode gone = null;
        synchronized (this) {
            Inode n = byId.get(id);
            if (n == null || id == StorageBackend.ROOT_ID) {
                return;
            }
            n.lookups -= count;
            if (n.lookups <= 0) {
                byId.remove(id);
                byKey.remove(new Key(n.dev, n.ino));
                gone = n;
            }
        }
        if (gone != null) {
            gone.drop();
        }
    }

    /** Our node id for a host inode the guest currently holds, or -1 (readdir's d_ino mapping). */
    synchronized long idOf(long dev, long ino) {
        Inode n = byKey.get(new Key(dev, ino));
        return n == null ? -1 : n.id;
    }

    int size() {
        return byId.size();
    }

    /** Shutdown: drops every inode. */
    synchronized void closeAll() {
        for (Inode n : byId.values()) {
            n.drop();
        }
        byId.clear();
        byKey.clear();
    }
}
