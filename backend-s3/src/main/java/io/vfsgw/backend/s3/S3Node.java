package io.vfsgw.backend.s3;

import io.vfsgw.locks.LockTable;
import io.vfsgw.locks.LockWaits;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.FileType;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One node the session holds: our own id, the path it currently has (updated on rename), and
 * what we last learned about its object. Mutable fields are guarded by the node's monitor.
 */
final class S3Node {
    final long id;
    final FileType type;
    final AtomicLong lookups = new AtomicLong();
    /** Relative path without leading or trailing '/'; "" for the root. */
    volatile String path;
    Attr attr;
    /** System.nanoTime() after which attr must be re-read (HEAD) before it is trusted. */
    long attrExpiresNs;
    /** ETag of the object the attrs describe; reads carry it in If-Match. */
    String etag;
    /** Open file handles; a node with open handles or a dirty writer is never dropped. */
    int opens;
    /** Staged data of a file being written; null when clean. */
    FileWriter writer;
    /** Created through us and not yet uploaded: exists only here until the first flush. */
    boolean localOnly;
    /** ETag seen by the last open: an open that finds the same one lets the guest keep its page cache. */
    String openedEtag;
    /** Unlinked while open: its data must not be uploaded again. */
    boolean unlinked;
    /** An upload asked for while a rename copied its directory, held back until the rename is done. */
    boolean uploadHeld;
    byte[] linkTarget;
    /**
     * The object's other user metadata (another tool's keys, s3fs's xattrs), written back with
     * ours on every rewrite so that a chmod or an upload does not drop it. Null while unknown: a
     * listing does not carry metadata, so such a node is HEADed before its object is rewritten.
     */
    Map<String, String> otherMeta;
    /**
     * Advisory locks taken through this gateway, made on first use. Not under the node's monitor,
     * which an upload holds for as long as it takes: a lock request must not queue behind it.
     */
    private final AtomicReference<LockTable> locks = new AtomicReference<>();

    S3Node(long id, String path, FileType type) {
        this.id = id;
        this.path = path;
        this.type = type;
    }

    LockTable locks(LockWaits waits) {
        LockTable t = locks.get();
        if (t == null) {
            locks.compareAndSet(null, new LockTable(waits));
            t = locks.get();
        }
        return t;
    }

    /** The lock table if one was ever made, else null (nothing to release). */
    LockTable locksIfAny() {
        return locks.get();
    }

    boolean pinned() {
        return id == io.vfsgw.spi.StorageBackend.ROOT_ID || lookups.get() > 0 || opens > 0
                || (writer != null && writer.dirty());
    }
}
