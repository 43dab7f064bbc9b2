package io.vfsgw.spi;

/**
 * Refuses every mutation with EROFS and passes reads through; wraps any backend (virtiofsd's
 * PassthroughFsRo). Opening for writing or with O_TRUNC is a mutation.
 */
public final class ReadOnlyBackend extends ForwardingBackend {
    public ReadOnlyBackend(StorageBackend delegate) {
        super(delegate);
    }

    private static FsException erofs() {
        return FsException.of(Errno.EROFS);
    }

    @Override
    public Attr setattr(RequestContext ctx, long node, SetAttr changes) throws FsException {
        throw erofs();
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
        return delegate.open(ctx, node, flags);
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
    public int write(RequestContext ctx, long node, long fh, long offset, WriteSource data, boolean killSuidGid)
            throws FsException {
        throw erofs();
    }

    @Override
    public void setxattr(RequestContext ctx, long node, String name, byte[] value, int flags) throws FsException {
        throw erofs();
    }

    @Override
    public void removexattr(RequestContext ctx, long node, String name) throws FsException {
        throw erofs();
    }

    @Override
    public void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length)
            throws FsException {
        throw erofs();
    }

    @Override
    public long copyFileRange(RequestContext ctx, long nodeIn, long fhIn, long offIn, long nodeOut, long fhOut,
                              long offOut, long length, int flags) throws FsException {
        throw erofs();
    }
}
