package io.vfsgw.backend.posix;

import io.vfsgw.nativeio.FileHandles;
import io.vfsgw.nativeio.PosixFiles;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;

/**
 * One host object the guest holds: its (st_dev, st_ino) identity, the guest's lookup count, and
 * either an O_PATH fd (as virtiofsd keeps) or, while idle beyond the fd budget, only a file handle
 * that {@link InodeTable} re-opens on the next use. The type never changes for the life of an inode.
 *
 * <p>Operations pin the inode through the table, read {@link #fd}, and unpin: while any pin is held
 * the fd is open and never changes, so a FORGET or an eviction racing a READ can never close the fd
 * (and let its number be reused for another file) mid-operation.
 */
final class Inode {
    static final int S_IFMT = 0170000;
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;

    /** Re-opens an inode that kept only its handle. */
    @FunctionalInterface
    interface Reopener {
        int reopen(Inode n, FileHandles.FileHandle h) throws FsException;
    }

    final long id;
    final long dev;
    final long ino;
    final int type;
    /** The root of a mount inside the source, announced as a submount ({@link io.vfsgw.spi.Attr#mountRoot}). */
    final boolean mountRoot;
    /** Guarded by the {@link InodeTable}'s lock. */
    long lookups;
    /** Open handles on this object; while any is open the inode stays in the table. Guarded likewise. */
    int opens;
    /**
     * The O_PATH fd, -1 while only the handle is kept. Written under this object's lock, and only
     * while no pin is held; read by operations between their pin and unpin.
     */
    int fd;
    // all guarded by this
    private int pins;
    private boolean dropped;
    private FileHandles.FileHandle handle;
    private boolean noHandle;

    Inode(long id, int fd, long dev, long ino, int mode, boolean mountRoot) {
        this.id = id;
        this.mountRoot = mountRoot;
        this.fd = fd;
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

    /**
     * Takes a pin for one operation, re-opening the fd from the handle if it was released.
     *
     * @return true when this call opened a new fd (the table counts it against the budget)
     * @throws FsException ESTALE when the inode is forgotten or its object is gone
     */
    synchronized boolean pin(Reopener r) throws FsException {
        if (dropped) {
            throw FsException.of(Errno.ESTALE, "node " + id);
        }
        boolean opened = false;
        if (fd < 0) {
            fd = r.reopen(this, handle);
            opened = true;
        }
        pins++;
        return opened;
    }

    /**
     * Returns an operation's pin.
     *
     * @return true when this closed the fd (the inode was forgotten meanwhile)
     */
    synchronized boolean unpinClosing() {
        pins--;
        return pins == 0 && dropped && closeFd();
    }

    /**
     * The owner lets go (forget, shutdown); the fd closes when the last operation finishes.
     *
     * @return true when this closed the fd now
     */
    synchronized boolean drop() {
        if (dropped) {
            return false;
        }
        dropped = true;
        return pins == 0 && closeFd();
    }

    private boolean closeFd() {
        if (fd < 0) {
            return false;
        }
        PosixFiles.closeQuietly(fd);
        fd = -1;
        return true;
    }

    /**
     * Eviction: closes the fd of an idle inode, keeping a file handle made from it first.
     *
     * @param mountId the only mount whose handles the table can re-open
     * @return true when the fd was closed
     */
    synchronized boolean releaseFd(int mountId) {
        if (pins > 0 || dropped || fd < 0 || noHandle) {
            return false;
        }
        if (handle == null) {
            try {
                FileHandles.FileHandle h = FileHandles.of(fd);
                if (h.mountId() != mountId) {
                    noHandle = true; // a submount: we hold no mount fd for it, so keep the fd
                    return false;
                }
                handle = h;
            } catch (FsException e) {
                noHandle = true; // the filesystem makes no handles
                return false;
            }
        }
        return closeFd();
    }

    /** True while eviction may still take this inode's fd (for the table's queue). */
    synchronized boolean mayRelease() {
        return !dropped && !noHandle && fd >= 0;
    }

    /**
     * A fresh lookup found this inode's (dev, ino) with {@code newFd}, an O_PATH fd of the object now
     * bearing that identity. While we hold an fd the host cannot reuse the ino, but while we keep
     * only a handle it can (the file was deleted, a new one got its number).
     *
     * @return 1 when {@code newFd} became this inode's fd, 0 when it was closed (we had one), -1 when
     *         the object is another one (the caller makes a new inode and still owns {@code newFd})
     */
    synchronized int offerFd(int newFd) {
        if (fd >= 0 || dropped) {
            PosixFiles.closeQuietly(newFd);
            return 0;
        }
        try {
            if (handle == null || !handle.equals(FileHandles.of(newFd))) {
                return -1;
            }
        } catch (FsException e) {
            return -1;
        }
        fd = newFd;
        return 1;
    }
}
