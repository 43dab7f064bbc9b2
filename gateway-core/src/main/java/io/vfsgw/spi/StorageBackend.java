package io.vfsgw.spi;

import java.util.List;

/**
 * The storage SPI every backend implements: the FUSE low-level API without the wire format.
 *
 * <h2>Nodes and lookup references</h2>
 * A node is named by a backend-chosen {@code long} id, nonzero; the root is {@link #ROOT_ID} and is
 * never forgotten. Every {@link Entry} returned by lookup, create, mknod, mkdir, symlink, link and
 * tmpfile hands the caller one lookup reference; the caller returns them with
 * {@link #forget(long, long)}. Until all references are forgotten the node must stay usable (getattr,
 * open, read, write...), even after it was unlinked or renamed away: a file unlinked while open
 * stays readable through its handles. A node id is not reused while referenced.
 *
 * <h2>Handles</h2>
 * open/opendir/create return a handle ({@code fh}) the caller passes back on I/O and exactly once
 * on release/releasedir. Handles are per open file description.
 *
 * <h2>Permissions</h2>
 * The kernel enforces mode bits (mounts use {@code default_permissions}); backends still enforce
 * ownership rules the kernel leaves to the filesystem (chown by non-root, sticky directories,
 * clearing suid on write/chown) and their own policy (read-only, jails).
 *
 * <h2>Errors</h2>
 * Every method fails only with {@link FsException}. An operation a backend cannot do answers
 * ENOSYS (the defaults here), EOPNOTSUPP or EXDEV, never silently succeeds. Unless said otherwise
 * every method may also fail with EIO (backend failure), ESTALE (node no longer exists in the
 * backend), EROFS (read-only) and EACCES/EPERM.
 *
 * <p>Implementations must be safe for concurrent calls from many threads and many sessions.
 */
public interface StorageBackend extends AutoCloseable {
    /** The root directory's node id (FUSE_ROOT_ID). */
    long ROOT_ID = 1;

    /** RENAME_NOREPLACE: fail with EEXIST if the target exists. */
    int RENAME_NOREPLACE = 1;
    /** RENAME_EXCHANGE: atomically swap source and target; both must exist. */
    int RENAME_EXCHANGE = 2;
    /** RENAME_WHITEOUT: not supported by any backend (EINVAL). */
    int RENAME_WHITEOUT = 4;

    /** fallocate mode bits. */
    int FALLOC_FL_KEEP_SIZE = 0x01;
    int FALLOC_FL_PUNCH_HOLE = 0x02;
    int FALLOC_FL_ZERO_RANGE = 0x10;

    int SEEK_SET = 0;
    int SEEK_CUR = 1;
    int SEEK_END = 2;
    int SEEK_DATA = 3;
    int SEEK_HOLE = 4;

    /** setxattr flags. */
    int XATTR_CREATE = 1;
    int XATTR_REPLACE = 2;

    /** A short name for logs and the CLI ("mem", "posix", "s3"). */
    String name();

    /**
     * Looks up {@code name} in directory {@code parent} and takes one lookup reference on it.
     * "." and ".." must be answered for directories (".." of the root is the root).
     *
     * @throws FsException ENOENT (may be cached as a negative entry), ENOTDIR, EACCES
     */
    Entry lookup(RequestContext ctx, long parent, FileName name) throws FsException;

    /**
     * Returns {@code nlookup} lookup references; when a node has none left and no link, its storage
     * may be freed. Never fails; unknown ids are ignored.
     */
    void forget(long node, long nlookup);

    /**
     * The node's attributes.
     *
     * @param fh the handle it is asked through (fstat), or -1
     * @throws FsException ESTALE/ENOENT for a node that no longer exists
     */
    Attr getattr(RequestContext ctx, long node, long fh) throws FsException;

    /**
     * Changes attributes (chmod, chown, truncate, utimens) and returns the new ones; ctime changes.
     *
     * @throws FsException EPERM (chown by non-root, chmod by non-owner), EISDIR (truncate a
     *                     directory), EINVAL (negative size), EFBIG, ENOSPC
     */
    Attr setattr(RequestContext ctx, long node, SetAttr changes) throws FsException;

    /**
     * The target of a symlink, raw bytes.
     *
     * @throws FsException EINVAL when the node is not a symlink
     */
    default byte[] readlink(RequestContext ctx, long node) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * Creates a symlink {@code name} in {@code parent} pointing at {@code target}.
     *
     * @throws FsException EEXIST, ENOENT (parent gone), ENOTDIR, ENAMETOOLONG (target over 4095)
     */
    default Entry symlink(RequestContext ctx, long parent, FileName name, byte[] target) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * Creates a regular file, FIFO, socket or device node. {@code mode} carries the type bits and the
     * permission bits with the umask already applied.
     *
     * @throws FsException EEXIST, EPERM (device nodes where not allowed), EINVAL (bad type), ENOSPC
     */
    default Entry mknod(RequestContext ctx, long parent, FileName name, int mode, int rdev, int umask)
            throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * Creates a directory; {@code mode} is the permission bits with the umask applied.
     *
     * @throws FsException EEXIST, ENOENT, ENOTDIR, EMLINK, ENOSPC
     */
    default Entry mkdir(RequestContext ctx, long parent, FileName name, int mode, int umask) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * Removes a non-directory name; the node lives on while referenced or open.
     *
     * @throws FsException ENOENT, EISDIR, EPERM (sticky directory not owned by the caller)
     */
    default void unlink(RequestContext ctx, long parent, FileName name) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * Removes an empty directory.
     *
     * @throws FsException ENOENT, ENOTDIR, ENOTEMPTY, EBUSY (the root), EINVAL (".")
     */
    default void rmdir(RequestContext ctx, long parent, FileName name) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * rename(2)/renameat2(2) with {@link #RENAME_NOREPLACE} / {@link #RENAME_EXCHANGE}.
     *
     * @throws FsException ENOENT, EEXIST (NOREPLACE), ENOTEMPTY (target a non-empty directory),
     *                     EISDIR/ENOTDIR (type mismatch), EINVAL (a directory into itself, bad flags),
     *                     EXDEV (backend cannot move across this boundary)
     */
    default void rename(RequestContext ctx, long parent, FileName name, long newParent, FileName newName, int flags)
            throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * Creates a hard link {@code newName} in {@code newParent} to {@code node}.
     *
     * @throws FsException EEXIST, EPERM (directories, backends without hard links), EMLINK, EXDEV
     */
    default Entry link(RequestContext ctx, long node, long newParent, FileName newName) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * Opens a file. {@code flags} are the open(2) flags (O_CREAT/O_EXCL already handled by the kernel);
     * O_TRUNC truncates atomically with the open.
     *
     * @throws FsException EISDIR, ENXIO, EACCES
     */
    default OpenResult open(RequestContext ctx, long node, int flags) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * Creates and opens a regular file atomically (O_CREAT; with O_EXCL the kernel has already looked
     * up and found no entry, but a racing creator still yields EEXIST).
     *
     * @throws FsException EEXIST, ENOENT, ENOTDIR, ENOSPC
     */
    default CreateResult create(RequestContext ctx, long parent, FileName name, int mode, int flags, int umask)
            throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * O_TMPFILE: an unnamed regular file in {@code parent} that a later link may name.
     *
     * @throws FsException EOPNOTSUPP where the backend cannot hold unnamed files
     */
    default CreateResult tmpfile(RequestContext ctx, long parent, int mode, int flags, int umask) throws FsException {
        throw FsException.of(Errno.EOPNOTSUPP);
    }

    /**
     * Reads up to {@code sink.remaining()} bytes at {@code offset} into the sink. Valid outcomes: the
     * bytes requested, fewer only at end of file (or under direct I/O), none at or past EOF.
     *
     * @throws FsException EISDIR, EBADF (handle not open for reading), EIO
     */
    default void read(RequestContext ctx, long node, long fh, long offset, ReadSink sink) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * Writes all of {@code data} at {@code offset} and returns the count written (short only on error
     * after partial progress). Clears suid/sgid when {@code killSuidGid}.
     *
     * @throws FsException ENOSPC, EFBIG, EBADF (handle not open for writing), EDQUOT
     */
    default int write(RequestContext ctx, long node, long fh, long offset, WriteSource data, boolean killSuidGid)
            throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /** close(2) of one file descriptor sharing this handle; report deferred write errors here. */
    default void flush(RequestContext ctx, long node, long fh, long lockOwner) throws FsException {
    }

    /** The last close of the handle; releases it (and flock locks held through it). */
    default void release(RequestContext ctx, long node, long fh, int flags, long lockOwner) throws FsException {
    }

    /** fsync/fdatasync: durable storage of the file's data (and metadata unless {@code datasync}). */
    default void fsync(RequestContext ctx, long node, long fh, boolean datasync) throws FsException {
    }

    /**
     * Opens a directory for reading.
     *
     * @throws FsException ENOTDIR
     */
    default OpenResult opendir(RequestContext ctx, long node, int flags) throws FsException {
        return OpenResult.of(0);
    }

    /**
     * Lists entries after {@code cookie} (0 = from the start, including "." and "..") into the sink
     * until it is full. Cookies are the {@link DirEntry#nextCookie()} values handed out before.
     *
     * @throws FsException ENOTDIR, ENOENT (directory removed)
     */
    default void readdir(RequestContext ctx, long node, long fh, long cookie, DirSink sink) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    default void releasedir(RequestContext ctx, long node, long fh) throws FsException {
    }

    default void fsyncdir(RequestContext ctx, long node, long fh, boolean datasync) throws FsException {
    }

    /** statfs(2) of the filesystem holding {@code node}. */
    StatFs statfs(RequestContext ctx, long node) throws FsException;

    /** syncfs(2): everything durable. */
    default void syncfs(RequestContext ctx) throws FsException {
    }

    /**
     * The value of an extended attribute.
     *
     * @throws FsException ENODATA (no such attribute), EOPNOTSUPP (no xattrs here)
     */
    default byte[] getxattr(RequestContext ctx, long node, String name) throws FsException {
        throw FsException.of(Errno.EOPNOTSUPP);
    }

    /**
     * Sets an extended attribute; flags {@link #XATTR_CREATE} / {@link #XATTR_REPLACE}.
     *
     * @throws FsException EEXIST (CREATE and present), ENODATA (REPLACE and absent), ENOSPC, E2BIG,
     *                     EOPNOTSUPP, EPERM (trusted.* / security.* namespaces without privilege)
     */
    default void setxattr(RequestContext ctx, long node, String name, byte[] value, int flags) throws FsException {
        throw FsException.of(Errno.EOPNOTSUPP);
    }

    /** The names of the node's extended attributes. */
    default List<String> listxattr(RequestContext ctx, long node) throws FsException {
        throw FsException.of(Errno.EOPNOTSUPP);
    }

    /** @throws FsException ENODATA when absent */
    default void removexattr(RequestContext ctx, long node, String name) throws FsException {
        throw FsException.of(Errno.EOPNOTSUPP);
    }

    /** access(2) beyond mode bits (the kernel checks modes itself under default_permissions). */
    default void access(RequestContext ctx, long node, int mask) throws FsException {
    }

    /**
     * fallocate(2): preallocate (mode 0 or KEEP_SIZE), PUNCH_HOLE|KEEP_SIZE, ZERO_RANGE.
     *
     * @throws FsException EOPNOTSUPP for modes the backend cannot do, ENOSPC, EFBIG
     */
    default void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length)
            throws FsException {
        throw FsException.of(Errno.EOPNOTSUPP);
    }

    /**
     * lseek(2) with SEEK_DATA / SEEK_HOLE (other whences are handled by the kernel).
     *
     * @throws FsException ENXIO (offset at or past EOF, or no data after it)
     */
    default long lseek(RequestContext ctx, long node, long fh, long offset, int whence) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * copy_file_range(2) within the backend; returns bytes copied (0 at source EOF).
     *
     * @throws FsException EXDEV/ENOSYS make the kernel fall back to read+write
     */
    default long copyFileRange(RequestContext ctx, long nodeIn, long fhIn, long offIn,
                               long nodeOut, long fhOut, long offOut, long length, int flags) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * F_GETLK: the first lock that would conflict with {@code lock}, or a lock of type F_UNLCK.
     * Every backend must serve locks: the session offers the kernel POSIX and flock locks, so the
     * kernel keeps none of its own and an ENOSYS here reaches the application as fcntl's error.
     * Backends without host-side locks keep them in memory ({@link io.vfsgw.locks.LockTable}).
     */
    default Lock getlk(RequestContext ctx, long node, long fh, Lock lock) throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /**
     * F_SETLK / F_SETLKW (when {@code sleep}) or, with {@code flock}, flock(2) on the whole file.
     *
     * @throws FsException EAGAIN (conflict, non-blocking), EDEADLK, EINTR (interrupted wait), ENOLCK
     */
    default void setlk(RequestContext ctx, long node, long fh, Lock lock, boolean sleep, boolean flock)
            throws FsException {
        throw FsException.of(Errno.ENOSYS);
    }

    /** Called once when the gateway shuts down: flush everything, release resources. */
    @Override
    default void close() throws FsException {
    }
}
