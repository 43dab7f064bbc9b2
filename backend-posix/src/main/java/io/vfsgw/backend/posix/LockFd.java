package io.vfsgw.backend.posix;

import io.vfsgw.locks.LockTable;
import io.vfsgw.locks.LockWaits;

/**
 * The OFD-lock fd of one (node, guest lock owner): POSIX locks belong to an owner, not to a handle,
 * so each owner gets its own open file description and the host kernel arbitrates conflicts between
 * owners, guests and host processes. Closed when the owner closes the file (FLUSH).
 */
final class LockFd extends PinnedFd {
    /** False once the owner unlocked everything: then the fd may be closed to reclaim fds. */
    volatile boolean mayHoldLocks;
    /**
     * The ranges the host granted this owner, with their guest pids. OFD locks record neither owner
     * nor pid, so this is how getlk names the holder and a wait finds whom it waits for (EDEADLK).
     */
    final LockTable held = new LockTable(new LockWaits());

    LockFd(int fd) {
        super(fd);
    }
}
