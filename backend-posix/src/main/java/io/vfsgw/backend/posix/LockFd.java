package io.vfsgw.backend.posix;

/**
 * The OFD-lock fd of one (node, guest lock owner): POSIX locks belong to an owner, not to a handle,
 * so each owner gets its own open file description and the host kernel arbitrates conflicts between
 * owners, guests and host processes. Closed when the owner closes the file (FLUSH).
 */
final class LockFd extends PinnedFd {
    /** False once the owner unlocked everything: then the fd may be closed to reclaim fds. */
    volatile boolean mayHoldLocks;
    /** The guest pid of the owner's last lock, for getlk (OFD locks do not record one). */
    volatile int pid;

    LockFd(int fd) {
        super(fd);
    }
}
