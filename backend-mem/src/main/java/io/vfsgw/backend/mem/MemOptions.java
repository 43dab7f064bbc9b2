package io.vfsgw.backend.mem;

/**
 * Sizing of one in-memory filesystem.
 *
 * @param capacityBytes bytes of file data, xattrs and inode overhead the tree may hold (statfs size;
 *                      writes beyond it fail with ENOSPC)
 * @param maxInodes     how many nodes (files, directories, links' targets...) may exist at once,
 *                      the root included (statfs files)
 */
public record MemOptions(long capacityBytes, long maxInodes) {
    /** 1 GiB. */
    public static final long DEFAULT_CAPACITY = 1L << 30;
    /** One million nodes. */
    public static final long DEFAULT_MAX_INODES = 1L << 20;

    public MemOptions {
        if (capacityBytes < MemBackend.PAGE_SIZE) {
            throw new IllegalArgumentException("mem capacity must be at least " + MemBackend.PAGE_SIZE
                    + " bytes, got " + capacityBytes);
        }
        if (maxInodes < 2) {
            throw new IllegalArgumentException("mem max inodes must be at least 2, got " + maxInodes);
        }
    }

    /** 1 GiB and one million inodes. */
    public static MemOptions defaults() {
        return new MemOptions(DEFAULT_CAPACITY, DEFAULT_MAX_INODES);
    }

    /** The given capacity with the default inode limit. */
    public static MemOptions ofCapacity(long capacityBytes) {
        return new MemOptions(capacityBytes, DEFAULT_MAX_INODES);
    }
}
