package io.vfsgw.backend.posix;

import io.vfsgw.spi.Attr;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirSink;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.Lock;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StatFs;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.spi.WriteSource;
import java.util.List;

/**
 * Refuses every mutation with EROFS and passes reads through; wraps any backend (virtiofsd's
 * PassthroughFsRo). Kept in backend-posix for now; it has no posix dependency and can move to the
 * spi package as is.
 */
public final class ReadOnlyBackend implements StorageBackend {
    private final StorageBackend d;

    public ReadOnlyBackend(StorageBackend delegate) {
        this.d = delegate;
    }

    private static FsException erofs() {
        return FsException.of(Errno.EROFS);
    }

    @Override
    public String name() {
        return d.name();
    }

    @Override
    public Entry lookup(RequestContext ctx, long parent, FileName name) throws FsException {
        return d.lookup(ctx, parent, name);
    }

    @Override
    public void forget(long node, long nlookup) {
        d.forget(node, nlookup);
    }

    @Override
    public Attr getattr(RequestContext ctx, long node, long fh) throws FsException {
        return d.getattr(ctx, node, fh);
    }

    @Override
    public Attr setattr(RequestContext ctx, long node, SetAttr changes) throws FsException {
        throw erofs();
    }

    @Override
    public byte[] readlink(RequestContext ctx, long node) throws FsException {
        return d.readlink(ctx, node);
    }

    @Override
    public Entry symlink(RequestContext ctx, long parent, FileName name, byte[] target) throws FsException {
        throw erofs();
    }

    @Override
    public Entry mknod(RequestContext ctx, long parent, FileName name, int mode, int rdev, int umask)
            throws FsException {
        throw erofs();
    }

    @Override
    public Entry mkdir(RequestContext ctx, long parent, FileName name, int mode, int umask) throws FsException {
        throw erofs();
    }

    @Override
    public void unlink(RequestContext ctx, long parent, FileName name) throws FsException {
        throw erofs();
    }

    @Override
    public void rmdir(RequestContext ctx, long parent, FileName name) throws FsException {
        throw erofs();
    }

    @Override
    public void rename(RequestContext ctx, long parent, FileName name, long newParent, FileName newName, int flags)
            throws FsException {
        throw erofs();
    }

    @Override
    public Entry link(RequestContext ctx, long node, long newParent, FileName newName) throws FsException {
        throw erofs();
    }

    @Override
    public OpenResult open(RequestContext ctx, long node, int flags) throws FsException {
        if (OpenFlags.isWritable(flags) || (flags & OpenFlags.O_TRUNC) != 0) {
            throw erofs();
        }
        return d.open(ctx, node, flags);
    }

    @Override
    public CreateResult create(RequestContext ctx, long parent, FileName name, int mode, int flags, int umask)
            throws FsException {
        throw erofs();
    }

    @Override
    public CreateResult tmpfile(RequestContext ctx, long parent, int mode, int flags, int umask) throws FsException {
        throw erofs();
    }

    @Override
    public void read(RequestContext ctx, long node, long fh, long offset, ReadSink sink) throws FsException {
        d.read(ctx, node, fh, offset, sink);
    }

    @Override
    public int write(RequestContext ctx, long node, long fh, long offset, WriteSource data, boolean killSuidGid)
            throws FsException {
        throw erofs();
    }

    @Override
    public void flush(RequestContext ctx, long node, long fh, long lockOwner) throws FsException {
        d.flush(ctx, node, fh, lockOwner);
    }

    @Override
    public void release(RequestContext ctx, long node, long fh, int flags, long lockOwner) throws FsException {
        d.release(ctx, node, fh, flags, lockOwner);
    }

    @Override
    public void fsync(RequestContext ctx, long node, long fh, boolean datasync) throws FsException {
        d.fsync(ctx, node, fh, datasync);
    }

    @Override
    public OpenResult opendir(RequestContext ctx, long node, int flags) throws FsException {
        return d.opendir(ctx, node, flags);
    }

    @Override
    public void readdir(RequestContext ctx, long node, long fh, long cookie, DirSink sink) throws FsException {
        d.readdir(ctx, node, fh, cookie, sink);
    }

    @Override
    public void releasedir(RequestContext ctx, long node, long fh) throws FsException {
        d.releasedir(ctx, node, fh);
    }

    @Override
    public void fsyncdir(RequestContext ctx, long node, long fh, boolean datasync) throws FsException {
        d.fsyncdir(ctx, node, fh, datasync);
    }

    @Override
    public StatFs statfs(RequestContext ctx, long node) throws FsException {
        return d.statfs(ctx, node);
    }

    @Override
    public void syncfs(RequestContext ctx) throws FsException {
        d.syncfs(ctx);
    }

    @Override
    public byte[] getxattr(RequestContext ctx, long node, String name) throws FsException {
        return d.getxattr(ctx, node, name);
    }

    @Override
    public void setxattr(RequestContext ctx, long node, String name, byte[] value, int flags) throws FsException {
        throw erofs();
    }

    @Override
    public List<String> listxattr(RequestContext ctx, long node) throws FsException {
        return d.listxattr(ctx, node);
    }

    @Override
    public void removexattr(RequestContext ctx, long node, String name) throws FsException {
        throw erofs();
    }

    @Override
    public void access(RequestContext ctx, long node, int mask) throws FsException {
        if ((mask & 2) != 0) { // W_OK
            throw erofs();
        }
        d.access(ctx, node, mask);
    }

    @Override
    public void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length)
            throws FsException {
        throw erofs();
    }

    @Override
    public long lseek(RequestContext ctx, long node, long fh, long offset, int whence) throws FsException {
        return d.lseek(ctx, node, fh, offset, whence);
    }

    @Override
    public long copyFileRange(RequestContext ctx, long nodeIn, long fhIn, long offIn, long nodeOut, long fhOut,
                              long offOut, long length, int flags) throws FsException {
        throw erofs();
    }

    @Override
    public Lock getlk(RequestContext ctx, long node, long fh, Lock lock) throws FsException {
        return d.getlk(ctx, node, fh, lock);
    }

    @Override
    public void setlk(RequestContext ctx, long node, long fh, Lock lock, boolean sleep, boolean flock)
            throws FsException {
        d.setlk(ctx, node, fh, lock, sleep, flock);
    }

    @Override
    public void close() throws FsException {
        d.close();
    }
}
