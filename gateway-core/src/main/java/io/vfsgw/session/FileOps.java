package io.vfsgw.session;

import io.vfsgw.cache.CacheMode;
import io.vfsgw.fuse.CopyFileRangeIn;
import io.vfsgw.fuse.CreateIn;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.FallocateIn;
import io.vfsgw.fuse.FlushIn;
import io.vfsgw.fuse.FsyncIn;
import io.vfsgw.fuse.InitFlags;
import io.vfsgw.fuse.LseekIn;
import io.vfsgw.fuse.LseekOut;
import io.vfsgw.fuse.MalformedRequestException;
import io.vfsgw.fuse.NegotiatedProtocol;
import io.vfsgw.fuse.OpenIn;
import io.vfsgw.fuse.OpenOut;
import io.vfsgw.fuse.OpenOutFlags;
import io.vfsgw.fuse.ReadIn;
import io.vfsgw.fuse.ReleaseIn;
import io.vfsgw.fuse.RequestFlags;
import io.vfsgw.fuse.WireStrings;
import io.vfsgw.fuse.WriteIn;
import io.vfsgw.fuse.WriteOut;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StorageBackend;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Open files: open/create, read/write straight between backend and transport buffers, and the rest. */
final class FileOps {
    private final FuseSession s;
    /** Per node, the version its data had when this connection last opened it (close-to-open). */
    private final Map<Long, Long> dataVersionAtOpen = new ConcurrentHashMap<>();

    FileOps(FuseSession s) {
        this.s = s;
    }

    /**
     * The kernel dropped the inode (and its page cache): forget its open version, so the map does not
     * grow with every file ever opened. Racing with a new open only costs that open its keep_cache.
     */
    void forgetNode(long node) {
        dataVersionAtOpen.remove(node);
    }

    int trackedVersions() {
        return dataVersionAtOpen.size();
    }

    /** Applies the cache mode to an open: direct I/O for none, keep_cache only while unchanged for auto. */
    private int openFlags(long node, OpenResult r) {
        int flags = 0;
        CacheMode mode = s.cacheMode();
        long version = s.backend.version(node);
        Long previous = dataVersionAtOpen.put(node, version);
        boolean keep = switch (mode) {
            case NONE -> false;
            case AUTO -> previous != null && previous == version;
            case ALWAYS -> true;
        };
        if (r.directIo() || mode == CacheMode.NONE) {
            flags |= OpenOutFlags.FOPEN_DIRECT_IO;
        } else if (keep || r.keepCache()) {
            flags |= OpenOutFlags.FOPEN_KEEP_CACHE;
        }
        if (r.nonSeekable()) {
            flags |= OpenOutFlags.FOPEN_NONSEEKABLE;
        }
        return flags;
    }

    private HandleTable.OpenHandle handle(Request req, long fh) throws FsException {
        HandleTable.OpenHandle h = s.handles.get(fh, req.nodeid(), false);
        if (h == null) {
            throw FsException.of(Errno.EBADF, "unknown file handle " + fh);
        }
        return h;
    }

    void open(Request req, Reply reply) throws FsException, MalformedRequestException {
        long node = s.requireNode(req.nodeid());
        OpenIn in = OpenIn.decode(req.body);
        OpenResult r = s.backend.open(req.ctx, node, in.flags());
        if ((in.openFlags() & RequestFlags.FUSE_OPEN_KILL_SUIDGID) != 0) {
            // O_TRUNC by a caller without CAP_FSETID (HANDLE_KILLPRIV_V2): the kernel leaves it to us
            s.backend.setattr(req.ctx, node, new SetAttr(null, null, null, null, null, false, null, false,
                    null, r.fh(), true));
        }
        HandleTable.OpenHandle h = s.handles.add(node, r.fh(), in.flags(), false);
        ByteBuffer b = Wire.buffer(OpenOut.SIZE);
        new OpenOut(h.fh(), openFlags(node, r)).encodeTo(b);
        b.flip();
        reply.ok(b);
    }

    void create(Request req, Reply reply) throws FsException, MalformedRequestException {
        long parent = s.requireNode(req.nodeid());
        CreateIn in = CreateIn.decode(req.body, s.protocol);
        FileName name = FuseSession.name(WireStrings.readName(req.body));
        replyCreated(s.backend.create(req.ctx, parent, name, in.mode(), in.flags(), in.umask()), in.flags(), reply);
    }

    void tmpfile(Request req, Reply reply) throws FsException, MalformedRequestException {
        long parent = s.requireNode(req.nodeid());
        CreateIn in = CreateIn.decode(req.body, s.protocol);
        replyCreated(s.backend.tmpfile(req.ctx, parent, in.mode(), in.flags(), in.umask()), in.flags(), reply);
    }

    private void replyCreated(CreateResult r, int flags, Reply reply) {
        long node = r.entry().nodeId();
        s.nodes.addLookup(node);
        HandleTable.OpenHandle h = s.handles.add(node, r.open().fh(), flags, false);
        ByteBuffer b = Wire.buffer(EntryOut.SIZE + OpenOut.SIZE);
        Wire.entryOut(r.entry(), s.config.cache().timeout(), s.protocol).encodeTo(b, s.protocol.minor());
        new OpenOut(h.fh(), openFlags(node, r.open())).encodeTo(b);
        b.flip();
        reply.ok(b);
    }

    void read(Request req, Reply reply) throws FsException, MalformedRequestException {
        ReadIn in = ReadIn.decode(req.body, s.protocol);
        HandleTable.OpenHandle h = handle(req, in.fh());
        if (in.offset() < 0) {
            throw FsException.of(Errno.EINVAL, "negative offset");
        }
        int size = Math.min(Integer.toUnsignedLong(in.size()) > Integer.MAX_VALUE ? Integer.MAX_VALUE : in.size(),
                reply.bodyCapacity());
        var sink = reply.dataSink(size);
        s.backend.read(req.ctx, h.node(), h.backendFh(), in.offset(), sink);
        reply.okData();
    }

    void write(Request req, Reply reply) throws FsException, MalformedRequestException {
        WriteIn in = WriteIn.decode(req.body, s.protocol);
        HandleTable.OpenHandle h = handle(req, in.fh());
        int size = in.size();
        if (size < 0 || size > req.data.remaining()) {
            throw new MalformedRequestException("WRITE claims " + Integer.toUnsignedString(size)
                    + " bytes but carries " + req.data.remaining());
        }
        if (in.offset() < 0) {
            throw FsException.of(Errno.EINVAL, "negative offset");
        }
        boolean kill = (in.writeFlags() & RequestFlags.FUSE_WRITE_KILL_SUIDGID) != 0;
        int written = s.backend.write(req.ctx, h.node(), h.backendFh(), in.offset(),
                new SegmentsWriteSource(req.data, size), kill);
        ByteBuffer b = Wire.buffer(WriteOut.SIZE);
        new WriteOut(written).encodeTo(b);
        b.flip();
        reply.ok(b);
    }

    void flush(Request req, Reply reply) throws FsException, MalformedRequestException {
        FlushIn in = FlushIn.decode(req.body);
        HandleTable.OpenHandle h = handle(req, in.fh());
        s.backend.flush(req.ctx, h.node(), h.backendFh(), s.lockOwner(in.lockOwner()));
        reply.ok();
    }

    void release(Request req, Reply reply) throws FsException, MalformedRequestException {
        ReleaseIn in = ReleaseIn.decode(req.body);
        HandleTable.OpenHandle h = s.handles.remove(in.fh(), req.nodeid(), false);
        if (h == null) {
            throw FsException.of(Errno.EBADF, "unknown file handle " + in.fh());
        }
        if ((in.releaseFlags() & RequestFlags.FUSE_RELEASE_FLUSH) != 0) {
            s.backend.flush(req.ctx, h.node(), h.backendFh(), s.lockOwner(in.lockOwner()));
        }
        s.backend.release(req.ctx, h.node(), h.backendFh(), in.flags(), s.lockOwner(in.lockOwner()));
        reply.ok();
    }

    void fsync(Request req, Reply reply) throws FsException, MalformedRequestException {
        FsyncIn in = FsyncIn.decode(req.body);
        HandleTable.OpenHandle h = handle(req, in.fh());
        s.backend.fsync(req.ctx, h.node(), h.backendFh(), (in.fsyncFlags() & RequestFlags.FUSE_FSYNC_FDATASYNC) != 0);
        reply.ok();
    }

    void fallocate(Request req, Reply reply) throws FsException, MalformedRequestException {
        FallocateIn in = FallocateIn.decode(req.body);
        HandleTable.OpenHandle h = handle(req, in.fh());
        if (in.offset() < 0 || in.length() <= 0) {
            throw FsException.of(Errno.EINVAL, "fallocate range");
        }
        s.backend.fallocate(req.ctx, h.node(), h.backendFh(), in.mode(), in.offset(), in.length());
        reply.ok();
    }

    void lseek(Request req, Reply reply) throws FsException, MalformedRequestException {
        LseekIn in = LseekIn.decode(req.body);
        HandleTable.OpenHandle h = handle(req, in.fh());
        if (in.whence() != StorageBackend.SEEK_DATA && in.whence() != StorageBackend.SEEK_HOLE) {
            throw FsException.of(Errno.EINVAL, "lseek whence " + in.whence());
        }
        NegotiatedProtocol p = s.protocol;
        if (p != null && p.has(InitFlags.FUSE_WRITEBACK_CACHE)) {
            // The kernel does not write back before asking: dirty pages may fill what we see as a hole
            // or lie past what we see as EOF (ENXIO). Only its fallback, all data up to its own size,
            // is right, and ENOSYS selects it for the connection.
            throw FsException.of(Errno.ENOSYS, "SEEK_DATA/SEEK_HOLE under the writeback cache");
        }
        long off = s.backend.lseek(req.ctx, h.node(), h.backendFh(), in.offset(), in.whence());
        ByteBuffer b = Wire.buffer(LseekOut.SIZE);
        new LseekOut(off).encodeTo(b);
        b.flip();
        reply.ok(b);
    }

    void copyFileRange(Request req, Reply reply) throws FsException, MalformedRequestException {
        CopyFileRangeIn in = CopyFileRangeIn.decode(req.body);
        HandleTable.OpenHandle src = handle(req, in.fhIn());
        HandleTable.OpenHandle dst = s.handles.get(in.fhOut(), in.nodeidOut(), false);
        if (dst == null) {
            throw FsException.of(Errno.EBADF, "unknown output handle " + in.fhOut());
        }
        // The reply carries a u32 count: copy at most what it can report.
        long len = Math.min(in.len(), 0x7FFF_F000L);
        long n = s.backend.copyFileRange(req.ctx, src.node(), src.backendFh(), in.offIn(),
                dst.node(), dst.backendFh(), in.offOut(), len, (int) in.flags());
        ByteBuffer b = Wire.buffer(WriteOut.SIZE);
        new WriteOut((int) n).encodeTo(b);
        b.flip();
        reply.ok(b);
    }
}
