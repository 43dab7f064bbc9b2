package io.vfsgw.backend.posix;

/**
 * One host object the guest holds: an O_PATH fd (as virtiofsd keeps), its (st_dev, st_ino) identity
 * and the guest's lookup count. The type never changes for the life of an inode.
 */
final class Inode extends PinnedFd {
    static final int S_IFMT = 0170000;
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;

    final long id;
    final long dev;
    final long ino;
    final int type;
    /** Guarded by the {@link InodeTable}'s lock. */
    long lookups;

    Inode(long id, int fd, long dev, long ino, int mode) {
        super(fd);
        this.id = id;
        this.dev = dev;
        this.ino = ino;
        this.type = mode & S_IFMT;
    }

    boolean isDirectory() {
        return type == S_IFDIR;
    }

    boolean isRegular() {
        return type == S_IFREG;
    }

    boolean isSymlink() {
        return type == S_IFLNK;
    }
}
