package io.vfsgw.session;

import io.vfsgw.cache.CacheMode;
import io.vfsgw.fuse.AccessIn;
import io.vfsgw.fuse.AttrOut;
import io.vfsgw.fuse.BatchForgetIn;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.ForgetIn;
import io.vfsgw.fuse.ForgetOne;
import io.vfsgw.fuse.GetattrIn;
import io.vfsgw.fuse.LinkIn;
import io.vfsgw.fuse.MalformedRequestException;
import io.vfsgw.fuse.MkdirIn;
import io.vfsgw.fuse.MknodIn;
import io.vfsgw.fuse.Rename2In;
import io.vfsgw.fuse.RenameIn;
import io.vfsgw.fuse.RequestFlags;
import io.vfsgw.fuse.SetattrIn;
import io.vfsgw.fuse.SetattrValid;
import io.vfsgw.fuse.WireStrings;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import java.nio.ByteBuffer;
import java.time.Duration;

/** The namespace operations: lookup/forget, attributes, and creating, linking and removing names. */
final class EntryOps {
    private final FuseSession s;

    EntryOps(FuseSession s) {
        this.s = s;
    }

    private Duration timeout() {
        return s.config.cache().timeout();
    }

    /** Sends an entry reply; the reference is recorded before the kernel can use it. */
    void replyEntry(Entry e, Reply reply) {
        s.nodes.addLookup(e.nodeId());
        ByteBuffer b = Wire.buffer(EntryOut.SIZE);
        Wire.entryOut(e, timeout(), s.protocol).encodeTo(b, s.protocol.minor());
        b.flip();
        reply.ok(b);
    }

    void lookup(Request req, Reply reply) throws FsException, MalformedRequestException {
        long parent = s.requireNode(req.nodeid());
        FileName name = FuseSession.name(WireStrings.readName(req.body));
        Entry e;
        try {
            e = s.backend.lookup(req.ctx, parent, name);
        } catch (FsException ex) {
            if (ex.errno() == Errno.ENOENT && s.cacheMode() != CacheMode.NONE) {
                ByteBuffer b = Wire.buffer(EntryOut.SIZE);
                Wire.negativeEntry(timeout()).encodeTo(b, s.protocol.minor());
                b.flip();
                reply.ok(b);
                return;
            }
            throw ex;
        }
        replyEntry(confirmed(req.ctx, parent, name, e), reply);
    }

    /**
     * A provisional entry (attributes the backend has not confirmed) must not reach the kernel:
     * whatever its timeout, the kernel keeps them until the next clock tick, so the stat and the
     * permission check right after this lookup would use them. getattr confirms them.
     */
    private Entry confirmed(RequestContext ctx, long parent, FileName name, Entry e) throws FsException {
        if (!e.attrProvisional()) {
            return e;
        }
        try {
            return new Entry(e.nodeId(), e.generation(), s.backend.getattr(ctx, e.nodeId(), -1));
        } catch (FsException ex) {
            s.backend.forget(e.nodeId(), 1);
            if (ex.errno() != Errno.ESTALE) {
                throw ex;
            }
            // The object turned out to be of another type (an s3fs symlink first seen in a listing):
            // the name has a new node now, with confirmed attributes.
            Entry again = s.backend.lookup(ctx, parent, name);
            if (!again.attrProvisional()) {
                return again;
            }
            s.backend.forget(again.nodeId(), 1);
            throw ex;
        }
    }

    void forget(Request req, Reply reply) throws MalformedRequestException {
        ForgetIn in = ForgetIn.decode(req.body);
        forgetOne(req.nodeid(), in.nlookup());
        reply.none();
    }

    void batchForget(Request req, Reply reply) throws MalformedRequestException {
        BatchForgetIn in = BatchForgetIn.decode(req.body);
        long count = Integer.toUnsignedLong(in.count());
        if (count * ForgetOne.SIZE > req.body.remaining()) {
            throw new MalformedRequestException("BATCH_FORGET of " + count + " entries in "
                    + req.body.remaining() + " bytes");
        }
        for (long i = 0; i < count; i++) {
            ForgetOne one = ForgetOne.decode(req.body);
            forgetOne(one.nodeid(), one.nlookup());
        }
        reply.none();
    }

    private void forgetOne(long node, long n) {
        long released = s.nodes.forget(node, n);
        if (released > 0) {
            if (!s.nodes.isKnown(node)) {
                s.nodeForgotten(node);
            }
            s.backend.forget(node, released);
        }
    }

    void getattr(Request req, Reply reply) throws FsException, MalformedRequestException {
        long node = s.requireNode(req.nodeid());
        long fh = -1;
        if (req.body.remaining() >= GetattrIn.SIZE) {
            GetattrIn in = GetattrIn.decode(req.body);
            if ((in.getattrFlags() & RequestFlags.FUSE_GETATTR_FH) != 0) {
                HandleTable.OpenHandle h = s.handles.get(in.fh(), node, false);
                fh = h == null ? -1 : h.backendFh();
            }
        }
        replyAttr(s.backend.getattr(req.ctx, node, fh), reply);
    }

    private void replyAttr(Attr a, Reply reply) {
        ByteBuffer b = Wire.buffer(AttrOut.SIZE);
        Wire.attrOut(a, timeout(), s.protocol).encodeTo(b, s.protocol.minor());
        b.flip();
        reply.ok(b);
    }

    void setattr(Request req, Reply reply) throws FsException, MalformedRequestException {
        long node = s.requireNode(req.nodeid());
        SetattrIn in = SetattrIn.decode(req.body);
        int v = in.valid();
        Long fh = null;
        if ((v & SetattrValid.FATTR_FH) != 0) {
            HandleTable.OpenHandle h = s.handles.get(in.fh(), node, false);
            if (h != null) {
                fh = h.backendFh();
            }
        }
        SetAttr changes = new SetAttr(
                (v & SetattrValid.FATTR_MODE) != 0 ? in.mode() & 07777 : null,
                (v & SetattrValid.FATTR_UID) != 0 ? in.uid() : null,
                (v & SetattrValid.FATTR_GID) != 0 ? in.gid() : null,
                (v & SetattrValid.FATTR_SIZE) != 0 ? in.size() : null,
                (v & SetattrValid.FATTR_ATIME) != 0 && (v & SetattrValid.FATTR_ATIME_NOW) == 0
                        ? nanos(in.atime(), in.atimensec()) : null,
                (v & SetattrValid.FATTR_ATIME_NOW) != 0,
                (v & SetattrValid.FATTR_MTIME) != 0 && (v & SetattrValid.FATTR_MTIME_NOW) == 0
                        ? nanos(in.mtime(), in.mtimensec()) : null,
                (v & SetattrValid.FATTR_MTIME_NOW) != 0,
                (v & SetattrValid.FATTR_CTIME) != 0 ? nanos(in.ctime(), in.ctimensec()) : null,
                fh,
                (v & SetattrValid.FATTR_KILL_SUIDGID) != 0);
        if (changes.size() != null && changes.size() < 0) {
            throw FsException.of(Errno.EINVAL, "negative size");
        }
        replyAttr(s.backend.setattr(req.ctx, node, changes), reply);
    }

    private static long nanos(long sec, int nsec) throws FsException {
        try {
            return Math.addExact(Math.multiplyExact(sec, 1_000_000_000L), Integer.toUnsignedLong(nsec));
        } catch (ArithmeticException e) {
            throw FsException.of(Errno.EOVERFLOW, "timestamp out of range: " + sec + "s");
        }
    }

    void readlink(Request req, Reply reply) throws FsException {
        byte[] target = s.backend.readlink(req.ctx, s.requireNode(req.nodeid()));
        reply.ok(ByteBuffer.wrap(target));
    }

    void symlink(Request req, Reply reply) throws FsException, MalformedRequestException {
        long parent = s.requireNode(req.nodeid());
        WireStrings.TwoNames names = WireStrings.readNameAndTarget(req.body);
        FileName name = FuseSession.name(names.first());
        replyEntry(s.backend.symlink(req.ctx, parent, name, names.second()), reply);
    }

    void mknod(Request req, Reply reply) throws FsException, MalformedRequestException {
        long parent = s.requireNode(req.nodeid());
        MknodIn in = MknodIn.decode(req.body, s.protocol);
        FileName name = FuseSession.name(WireStrings.readName(req.body));
        replyEntry(s.backend.mknod(req.ctx, parent, name, in.mode(), in.rdev(), in.umask()), reply);
    }

    void mkdir(Request req, Reply reply) throws FsException, MalformedRequestException {
        long parent = s.requireNode(req.nodeid());
        MkdirIn in = MkdirIn.decode(req.body);
        FileName name = FuseSession.name(WireStrings.readName(req.body));
        replyEntry(s.backend.mkdir(req.ctx, parent, name, in.mode() & 07777, in.umask()), reply);
    }

    void unlink(Request req, Reply reply) throws FsException, MalformedRequestException {
        long parent = s.requireNode(req.nodeid());
        FileName name = FuseSession.name(WireStrings.readName(req.body));
        s.backend.unlink(req.ctx, parent, name);
        reply.ok();
    }

    void rmdir(Request req, Reply reply) throws FsException, MalformedRequestException {
        long parent = s.requireNode(req.nodeid());
        FileName name = FuseSession.name(WireStrings.readName(req.body));
        s.backend.rmdir(req.ctx, parent, name);
        reply.ok();
    }

    void rename(Request req, Reply reply, boolean withFlags) throws FsException, MalformedRequestException {
        long parent = s.requireNode(req.nodeid());
        long newParent;
        int flags = 0;
        if (withFlags) {
            Rename2In in = Rename2In.decode(req.body);
            newParent = in.newdir();
            flags = in.flags();
        } else {
            newParent = RenameIn.decode(req.body).newdir();
        }
        s.requireNode(newParent);
        WireStrings.TwoNames names = WireStrings.readTwoNames(req.body);
        FileName from = FuseSession.name(names.first());
        FileName to = FuseSession.name(names.second());
        if ((flags & ~(io.vfsgw.spi.StorageBackend.RENAME_NOREPLACE | io.vfsgw.spi.StorageBackend.RENAME_EXCHANGE)) != 0
                || flags == (io.vfsgw.spi.StorageBackend.RENAME_NOREPLACE | io.vfsgw.spi.StorageBackend.RENAME_EXCHANGE)) {
            throw FsException.of(Errno.EINVAL, "rename flags " + flags);
        }
        s.backend.rename(req.ctx, parent, from, newParent, to, flags);
        reply.ok();
    }

    void link(Request req, Reply reply) throws FsException, MalformedRequestException {
        long newParent = s.requireNode(req.nodeid());
        long node = s.requireNode(LinkIn.decode(req.body).oldnodeid());
        FileName name = FuseSession.name(WireStrings.readName(req.body));
        replyEntry(s.backend.link(req.ctx, node, newParent, name), reply);
    }

    void access(Request req, Reply reply) throws FsException, MalformedRequestException {
        AccessIn in = AccessIn.decode(req.body);
        s.backend.access(req.ctx, s.requireNode(req.nodeid()), in.mask());
        reply.ok();
    }
}
