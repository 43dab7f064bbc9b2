package io.vfsgw.spi;

import java.util.List;

/**
 * A backend that passes every call to another one: the base of decorators (read-only, metadata
 * cache, fault injection), which override only what they change.
 */
public abstract class ForwardingBackend implements StorageBackend {
    protected final StorageBackend delegate;

    protected ForwardingBackend(StorageBackend delegate) {
        this.delegate = delegate;
    }

    public StorageBackend delegate() {
        return delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public Entry lookup(RequestContext ctx, long parent, FileName name) throws FsException {
        return delegate.lookup(ctx, parent, name);
    }

    @Override
    public void forget(long node, long nlookup) {
        delegate.forget(node, nlookup);
    }

    @Override
    public Attr getattr(RequestContext ctx, long node, long fh) throws FsException {
        return delegate.getattr(ctx, node, fh);
    }

    @Override
    public Attr setattr(RequestContext ctx, long node, SetAttr changes) throws FsException {
        return delegate.setattr(ctx, node, changes);
    }

    @Override
    public byte[] readlink(RequestContext ctx, long node) throws FsException {
        return delegate.readlink(ctx, node);
    }

    @Override
    public Entry symlink(RequestContext ctx, long parent, FileName name, byte[] target) throws FsException {
        return delegate.symlink(ctx, parent, name, target);
    }

    @Override
    public Entry mknod(RequestContext ctx, long parent, FileName name, int mode, int rdev, int umask) throws FsException {
        return delegate.mknod(ctx, parent, name, mode, rdev, umask);
    }

    @Override
    public Entry mkdir(RequestContext ctx, long parent, FileName name, int mode, int umask) throws FsException {
        return delegate.mkdir(ctx, parent, name, mode, umask);
    }

    @Override
    public void unlink(RequestContext ctx, long parent, FileName name) throws FsException {
        delegate.unlink(ctx, parent, name);
    }

    @Override
    public void rmdir(RequestContext ctx, long parent, FileName name) throws FsException {
        delegate.rmdir(ctx, parent, name);
    }

    @Override
    public void rename(RequestContext ctx, long parent, FileName name, long newParent, FileName newName, int flags) throws FsException {
        delegate.rename(ctx, parent, name, newParent, newName, flags);
    }

    @Override
    public Entry link(RequestContext ctx, long node, long newParent, FileName newName) throws FsException {
        return delegate.link(ctx, node, newParent, newName);
    }

    @Override
    public OpenResult open(RequestContext ctx, long node, int flags) throws FsException {
        return delegate.open(ctx, node, flags);
    }

    @Override
    public CreateResult create(RequestContext ctx, long parent, FileName name, int mode, int flags, int umask) throws FsException {
        return delegate.create(ctx, parent, name, mode, flags, umask);
    }

    @Override
    public CreateResult tmpfile(RequestContext ctx, long parent, int mode, int flags, int umask) throws FsException {
        return delegate.tmpfile(ctx, parent, mode, flags, umask);
    }

    @Override
    public void read(RequestContext ctx, long node, long fh, long offset, ReadSink sink) throws FsException {
        delegate.read(ctx, node, fh, offset, sink);
    }

    @Override
    public int write(RequestContext ctx, long node, long fh, long offset, WriteSource data, boolean killSuidGid) throws FsException {
        return delegate.write(ctx, node, fh, offset, data, killSuidGid);
    }

    @Override
    public void flush(RequestContext ctx, long node, long fh, long lockOwner) throws FsException {
        delegate.flush(ctx, node, fh, lockOwner);
    }

    @Override
    public void release(RequestContext ctx, long node, long fh, int flags, long lockOwner) throws FsException {
        delegate.release(ctx, node, fh, flags, lockOwner);
    }

    @Override
    public void fsync(RequestContext ctx, long node, long fh, boolean datasync) throws FsException {
        delegate.fsync(ctx, node, fh, datasync);
    }

    @Override
    public OpenResult opendir(RequestContext ctx, long node, int flags) throws FsException {
        return delegate.opendir(ctx, node, flags);
    }

    @Override
    public void readdir(RequestContext ctx, long node, long fh, long cookie, DirSink sink) throws FsException {
        delegate.readdir(ctx, node, fh, cookie, sink);
    }

    @Override
    public void releasedir(RequestContext ctx, long node, long fh) throws FsException {
        delegate.releasedir(ctx, node, fh);
    }

    @Override
    public void fsyncdir(RequestContext ctx, long node, long fh, boolean datasync) throws FsException {
        delegate.fsyncdir(ctx, node, fh, datasync);
    }

    @Override
    public StatFs statfs(RequestContext ctx, long node) throws FsException {
        return delegate.statfs(ctx, node);
    }

    @Override
    public void syncfs(RequestContext ctx) throws FsException {
        delegate.syncfs(ctx);
    }

    @Override
    public byte[] getxattr(RequestContext ctx, long node, String name) throws FsException {
        return delegate.getxattr(ctx, node, name);
    }

    @Override
    public void setxattr(RequestContext ctx, long node, String name, byte[] value, int flags) throws FsException {
        delegate.setxattr(ctx, node, name, value, flags);
    }

    @Override
    public List<String> listxattr(RequestContext ctx, long node) throws FsException {
        return delegate.listxattr(ctx, node);
    }

    @Override
    public void removexattr(RequestContext ctx, long node, String name) throws FsException {
        delegate.removexattr(ctx, node, name);
    }

    @Override
    public void access(RequestContext ctx, long node, int mask) throws FsException {
        delegate.access(ctx, node, mask);
    }

    @Override
    public void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length) throws FsException {
        delegate.fallocate(ctx, node, fh, mode, offset, length);
    }

    @Override
    public long lseek(RequestContext ctx, long node, long fh, long offset, int whence) throws FsException {
        return delegate.lseek(ctx, node, fh, offset, whence);
    }

    @Override
    public long copyFileRange(RequestContext ctx, long nodeIn, long fhIn, long offIn, long nodeOut, long fhOut, long offOut, long length, int flags) throws FsException {
        return delegate.copyFileRange(ctx, nodeIn, fhIn, offIn, nodeOut, fhOut, offOut, length, flags);
    }

    @Override
    public Lock getlk(RequestContext ctx, long node, long fh, Lock lock) throws FsException {
        return delegate.getlk(ctx, node, fh, lock);
    }

    @Override
    public void setlk(RequestContext ctx, long node, long fh, Lock lock, boolean sleep, boolean flock) throws FsException {
        delegate.setlk(ctx, node, fh, lock, sleep, flock);
    }

    @Override
    public void close() throws FsException {
        delegate.close();
    }
}
