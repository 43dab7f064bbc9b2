package io.vfsgw.backend.mem;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The byte and inode budget of one {@link MemBackend}. Reservations are all-or-nothing (a CAS loop),
 * so an operation that would overflow the budget fails with ENOSPC before it changes anything.
 */
final class Capacity {
    private final long maxBytes;
    private final long maxInodes;
    private final AtomicLong usedBytes = new AtomicLong();
    private final AtomicLong usedInodes = new AtomicLong();

    Capacity(long maxBytes, long maxInodes) {
        this.maxBytes = maxBytes;
        this.maxInodes = maxInodes;
    }

    /** Takes {@code n} bytes from the budget or fails with ENOSPC taking nothing. */
    void reserveBytes(long n) throws FsException {
        if (n <= 0) {
            return;
        }
        while (true) {
            long used = usedBytes.get();
            if (n > maxBytes - used) {
                throw FsException.of(Errno.ENOSPC, "mem backend full: " + used + " of " + maxBytes + " bytes used");
            }
            if (usedBytes.compareAndSet(used, used + n)) {
                return;
            }
        }
    }

    void releaseBytes(long n) {
        if (n > 0) {
            usedBytes.addAndGet(-n);
        }
    }

    /** Takes one inode and its fixed byte cost, or fails with ENOSPC taking nothing. */
    void reserveInode(long bytes) throws FsException {
        while (true) {
            long used = usedInodes.get();
            if (used >= maxInodes) {
                throw FsException.of(Errno.ENOSPC, "mem backend out of inodes: " + maxInodes);
            }
            if (usedInodes.compareAndSet(used, used + 1)) {
                break;
            }
        }
        try {
            reserveBytes(bytes);
        } catch (FsException e) {
            usedInodes.decrementAndGet();
            throw e;
        }
    }

    void releaseInode(long bytes) {
        usedInodes.decrementAndGet();
        releaseBytes(bytes);
    }

    long maxBytes() {
        return maxBytes;
    }

    long usedBytes() {
        return usedBytes.get();
    }

    long maxInodes() {
        return maxInodes;
    }

    long usedInodes() {
        return usedInodes.get();
    }
}
