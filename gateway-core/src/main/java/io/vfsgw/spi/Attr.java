package io.vfsgw.spi;

/**
 * A node's attributes, as stat(2) shows them. Times are nanoseconds since the epoch.
 *
 * @param ino     the node id (also the inode number the guest sees)
 * @param mode    full st_mode: type bits ({@link FileType}) and permission bits incl. suid/sgid/sticky
 * @param blocks  512-byte blocks allocated (sparse files report less than size / 512)
 * @param rdev    device number for device nodes (Linux encoding), else 0
 * @param blksize preferred I/O size
 * @param mountRoot the node is the root of another mount inside the backend's tree (posix: a
 *                filesystem mounted below the source); a guest that supports it (FUSE_SUBMOUNTS)
 *                then makes it a submount of its own, with its own st_dev. Always false elsewhere.
 */
public record Attr(long ino, long size, long blocks, long atimeNs, long mtimeNs, long ctimeNs,
                   int mode, int nlink, int uid, int gid, int rdev, int blksize, boolean mountRoot) {

    /** Attributes of a node that is not a mount root (every backend but a passthrough). */
    public Attr(long ino, long size, long blocks, long atimeNs, long mtimeNs, long ctimeNs,
                int mode, int nlink, int uid, int gid, int rdev, int blksize) {
        this(ino, size, blocks, atimeNs, mtimeNs, ctimeNs, mode, nlink, uid, gid, rdev, blksize, false);
    }

    public FileType type() {
        return FileType.ofMode(mode);
    }

    public boolean isDirectory() {
        return (mode & FileType.S_IFMT) == FileType.DIRECTORY.modeBits();
    }

    public boolean isRegular() {
        return (mode & FileType.S_IFMT) == FileType.REGULAR.modeBits();
    }

    public boolean isSymlink() {
        return (mode & FileType.S_IFMT) == FileType.SYMLINK.modeBits();
    }

    public Attr withIno(long newIno) {
        return new Attr(newIno, size, blocks, atimeNs, mtimeNs, ctimeNs, mode, nlink, uid, gid, rdev, blksize,
                mountRoot);
    }
}
