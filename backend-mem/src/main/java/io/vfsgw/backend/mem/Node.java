package io.vfsgw.backend.mem;

import io.vfsgw.locks.LockTable;
import io.vfsgw.locks.LockWaits;
import io.vfsgw.spi.FileType;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One inode of the in-memory tree: attributes, xattrs and reference counts. Symlinks, FIFOs,
 * sockets and device nodes are plain Nodes; {@link FileNode} and {@link DirNode} add contents.
 *
 * <p>Locking: {@link #lock} guards the attributes ({@code mode, uid, gid}), the xattrs and the
 * subclass contents (file pages and size). The times are volatile and may also be stamped without
 * it: readers bump atime under the read lock (relatime) and namespace changes stamp ctime/mtime
 * without waiting for the node lock. Two racing stamps leave one of two near-identical times;
 * nothing depends on which. The link/reference/open counts and {@code freed} are guarded by the
 * node's monitor, because lookups (under the namespace read lock) and forgets (under no lock) race
 * on them and the "free now?" decision must see all three at once.
 */
class Node {
    final long id;
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    int mode;
    int uid;
    int gid;
    volatile long atimeNs;
    volatile long mtimeNs;
    volatile long ctimeNs;
    /** Device number of char/block nodes; 0 otherwise. */
    final int rdev;
    /** Symlink target; null for other types. */
    final byte[] target;
    /** Extended attributes, name to value; created on first set. */
    Map<String, byte[]> xattrs;
    /** Byte-range and flock locks; created on first use. */
    private LockTable locks;

    // Guarded by this (the monitor).
    volatile int nlink;
    long lookupRefs;
    long openHandles;
    boolean freed;
    /** An O_TMPFILE node: link() may give it a first name although nlink is 0. */
    boolean linkable;

    Node(long id, int mode, int uid, int gid, long nowNs, int rdev, byte[] target) {
        this.id = id;
        this.mode = mode;
        this.uid = uid;
        this.gid = gid;
        this.atimeNs = nowNs;
        this.mtimeNs = nowNs;
        this.ctimeNs = nowNs;
        this.rdev = rdev;
        this.target = target;
    }

    FileType type() {
        return FileType.ofMode(mode);
    }

    boolean isDir() {
        return (mode & FileType.S_IFMT) == FileType.DIRECTORY.modeBits();
    }

    boolean isRegular() {
        return (mode & FileType.S_IFMT) == FileType.REGULAR.modeBits();
    }

    /** Apparent size as stat shows it. */
    long size() {
        return target != null ? target.length : 0;
    }

    /** 512-byte blocks allocated. */
    long blocks() {
        return 0;
    }

    /** Bytes this node holds in the capacity budget beyond its pages (inode cost, target, xattrs). */
    long fixedCost;

    synchronized LockTable locks(LockWaits waits) {
        if (locks == null) {
            locks = new LockTable(waits);
        }
        return locks;
    }

    /** The lock table if one was ever created, else null (no waiters to wake, nothing to drop). */
    synchronized LockTable locksIfAny() {
        return locks;
    }

    static Map<String, byte[]> newXattrMap() {
        return new TreeMap<>();
    }
}
