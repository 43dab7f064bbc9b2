package io.vfsgw.backend.posix;

import io.vfsgw.nativeio.PosixFiles;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A host fd used by concurrent operations: closed only once its owner dropped it AND no operation
 * still holds a pin. Without this a FORGET or RELEASE racing a READ could close the fd and let the
 * number be reused for another file (or another guest's socket) mid-operation.
 */
class PinnedFd {
    final int fd;
    private final AtomicInteger pins = new AtomicInteger(1); // 1 = the owner's pin
    private final AtomicBoolean dropped = new AtomicBoolean();

    PinnedFd(int fd) {
        this.fd = fd;
    }

    /** Takes a pin for one operation; false if the fd is already closing. */
    final boolean tryPin() {
        while (true) {
            int p = pins.get();
            if (p == 0) {
                return false;
            }
            if (pins.compareAndSet(p, p + 1)) {
                return true;
            }
        }
    }

    /** Returns an operation's pin. */
    final void unpin() {
        if (pins.decrementAndGet() == 0) {
            PosixFiles.closeQuietly(fd);
        }
    }

    /** The owner lets go (forget, release); the fd closes when the last operation finishes. */
    final void drop() {
        if (dropped.compareAndSet(false, true)) {
            unpin();
        }
    }
}
