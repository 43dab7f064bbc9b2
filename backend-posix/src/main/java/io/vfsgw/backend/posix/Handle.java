package io.vfsgw.backend.posix;

import io.vfsgw.nativeio.PosixDirs;

/** One open file or directory description: its own host fd, opened with the guest's flags. */
final class Handle extends PinnedFd {
    final long nodeId;
    final boolean directory;
    final boolean regular;
    /** getdents64 buffer; readdir calls on one handle are serialised on this object. */
    final PosixDirs.DirBuffer dirBuffer;

    Handle(int fd, long nodeId, boolean directory, boolean regular) {
        super(fd);
        this.nodeId = nodeId;
        this.directory = directory;
        this.regular = regular;
        this.dirBuffer = directory ? new PosixDirs.DirBuffer(32 * 1024) : null;
    }
}
