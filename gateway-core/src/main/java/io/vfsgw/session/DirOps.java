package io.vfsgw.session;

import io.vfsgw.fuse.Dirent;
import io.vfsgw.fuse.Direntplus;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.FsyncIn;
import io.vfsgw.fuse.MalformedRequestException;
import io.vfsgw.fuse.OpenIn;
import io.vfsgw.fuse.OpenOut;
import io.vfsgw.fuse.ReadIn;
import io.vfsgw.fuse.ReleaseIn;
import io.vfsgw.fuse.RequestFlags;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenResult;
import java.nio.ByteBuffer;

/** Directory handles and listings (READDIR and READDIRPLUS). */
final class DirOps {
    /**
     * The listing being built, one per serving thread and reused: the kernel asks for up to 1 MiB per
     * READDIR (recent kernels: as much as the caller's getdents buffer), and a fresh buffer per call
     * was most of what a directory walk allocated (a young GC every few hundred listings).
     */
    private static final ThreadLocal<ByteBuffer> LISTING_BUFFER = new ThreadLocal<>();

    private final FuseSession s;

    DirOps(FuseSession s) {
        this.s = s;
    }

    void opendir(Request req, Reply reply) throws FsException, MalformedRequestException {
        long node = s.requireNode(req.nodeid());
        OpenIn in = OpenIn.decode(req.body);
        OpenResult r = s.backend.opendir(req.ctx, node, in.flags());
        HandleTable.OpenHandle h = s.handles.add(node, r.fh(), in.flags(), true);
        ByteBuffer b = Wire.buffer(OpenOut.SIZE);
        new OpenOut(h.fh(), 0).encodeTo(b);
        b.flip();
        reply.ok(b);
    }

    private HandleTable.OpenHandle handle(Request req, long fh) throws FsException {
        HandleTable.OpenHandle h = s.handles.get(fh, req.nodeid(), true);
        if (h == null) {
            throw FsException.of(Errno.EBADF, "unknown directory handle " + fh);
        }
        return h;
    }

    /**
     * Fills the reply with as many entries as fit. For READDIRPLUS each entry (but "." and "..") is
     * looked up, which hands the kernel a reference, so an entry is only looked up once we know it fits.
     */
    void readdir(Request req, Reply reply, boolean plus) throws FsException, MalformedRequestException {
        ReadIn in = ReadIn.decode(req.body, s.protocol);
        HandleTable.OpenHandle h = handle(req, in.fh());
        int size = (int) Math.min(Integer.toUnsignedLong(in.size()), reply.bodyCapacity());
        ByteBuffer out = listingBuffer(size);
        long dir = h.node();
        s.backend.readdir(req.ctx, dir, h.backendFh(), in.offset(), (DirEntry e) -> {
            byte[] name = e.name().bytes();
            int need = plus ? Direntplus.encodedSize(name.length) : Dirent.encodedSize(name.length);
            if (need > out.remaining()) {
                return false;
            }
            int type = e.type() == null ? 0 : e.type().direntType();
            Dirent d = new Dirent(e.ino(), e.nextCookie(), type, name);
            if (!plus) {
                d.encodeTo(out);
                return true;
            }
            // ".", "..", a name removed since the listing was taken, and one whose attributes the
            // backend has not confirmed (see EntryOps.confirmed) go out without an entry: a stat
            // of the name then sends a LOOKUP.
            EntryOut eo = null;
            if (!e.name().isDotOrDotDot()) {
                Entry found = null;
                try {
                    found = s.backend.lookup(req.ctx, dir, e.name());
                } catch (FsException gone) {
                    // listed without attributes
                }
                if (found != null && found.attrProvisional()) {
                    s.backend.forget(found.nodeId(), 1);
                } else if (found != null) {
                    s.nodes.addLookup(found.nodeId());
                    eo = Wire.entryOut(found, s.config.cache().timeout(), s.protocol);
                }
            }
            if (eo == null) {
                eo = new EntryOut(0, 0, 0, 0, 0, 0, io.vfsgw.fuse.FuseAttr.of(zeroAttr(e.ino(), type), 0));
            }
            new Direntplus(eo, d).encodeTo(out);
            return true;
        });
        out.flip();
        reply.ok(out);
    }

    /** This thread's listing buffer, cleared and limited to {@code size}. */
    private static ByteBuffer listingBuffer(int size) {
        ByteBuffer b = LISTING_BUFFER.get();
        if (b == null || b.capacity() < size) {
            b = Wire.buffer(size);
            LISTING_BUFFER.set(b);
        }
        return b.clear().limit(size);
    }

    private static io.vfsgw.spi.Attr zeroAttr(long ino, int direntType) {
        return new io.vfsgw.spi.Attr(ino, 0, 0, 0, 0, 0, direntType << 12, 0, 0, 0, 0, 0);
    }

    void releasedir(Request req, Reply reply) throws FsException, MalformedRequestException {
        ReleaseIn in = ReleaseIn.decode(req.body);
        HandleTable.OpenHandle h = s.handles.remove(in.fh(), req.nodeid(), true);
        if (h == null) {
            throw FsException.of(Errno.EBADF, "unknown directory handle " + in.fh());
        }
        s.backend.releasedir(req.ctx, h.node(), h.backendFh());
        reply.ok();
    }

    void fsyncdir(Request req, Reply reply) throws FsException, MalformedRequestException {
        FsyncIn in = FsyncIn.decode(req.body);
        HandleTable.OpenHandle h = handle(req, in.fh());
        s.backend.fsyncdir(req.ctx, h.node(), h.backendFh(), (in.fsyncFlags() & RequestFlags.FUSE_FSYNC_FDATASYNC) != 0);
        reply.ok();
    }
}
