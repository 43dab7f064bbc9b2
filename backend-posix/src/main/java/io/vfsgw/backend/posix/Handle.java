package io.vfsgw.backend.posix;

/**
 * One open file or directory description: its own host fd, opened with the guest's flags. readdir
 * calls on a directory handle synchronize on it: they share the fd's position.
 */
final class Handle extends PinnedFd {
    final long nodeId;
    final boolean directory;
    final boolean regular;

    Handle(int fd, long nodeId, boolean directory, boolean regular) {
        super(fd);
        this.nodeId = nodeId;
        this.directory = directory;
        this.regular = regular;
    }
}
