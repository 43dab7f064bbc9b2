package io.vfsgw.session;

import io.vfsgw.fuse.FileLock;
import io.vfsgw.fuse.LkIn;
import io.vfsgw.fuse.LkOut;
import io.vfsgw.fuse.MalformedRequestException;
import io.vfsgw.fuse.RequestFlags;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.Lock;
import java.nio.ByteBuffer;

/** POSIX record locks and flock(2), served by the backend so locks from different guests conflict. */
final class LockOps {
    private final FuseSession s;

    LockOps(FuseSession s) {
        this.s = s;
    }

    private HandleTable.OpenHandle handle(Request req, long fh) throws FsException {
        HandleTable.OpenHandle h = s.handles.get(fh, req.nodeid(), false);
        if (h == null) {
            throw FsException.of(Errno.EBADF, "unknown file handle " + fh);
        }
        return h;
    }

    void getlk(Request req, Reply reply) throws FsException, MalformedRequestException {
        LkIn in = LkIn.decode(req.body);
        HandleTable.OpenHandle h = handle(req, in.fh());
        FileLock l = in.lk();
        Lock found = s.backend.getlk(req.ctx, h.node(), h.backendFh(),
                new Lock(l.type(), l.start(), l.end(), s.lockOwner(in.owner()), l.pid()));
        ByteBuffer b = Wire.buffer(LkOut.SIZE);
        new LkOut(new FileLock(found.start(), found.end(), found.type(), found.pid())).encodeTo(b);
        b.flip();
        reply.ok(b);
    }

    void setlk(Request req, Reply reply, boolean sleep) throws FsException, MalformedRequestException {
        LkIn in = LkIn.decode(req.body);
        HandleTable.OpenHandle h = handle(req, in.fh());
        FileLock l = in.lk();
        boolean flock = (in.lkFlags() & RequestFlags.FUSE_LK_FLOCK) != 0;
        Lock lock = new Lock(l.type(), l.start(), l.end(), s.lockOwner(in.owner()), l.pid());
        if (!sleep) {
            s.backend.setlk(req.ctx, h.node(), h.backendFh(), lock, false, flock);
            reply.ok();
            return;
        }
        try {
            s.backend.setlk(req.ctx, h.node(), h.backendFh(), lock, false, flock);
            reply.ok();
            return;
        } catch (FsException e) {
            if (e.errno() != Errno.EAGAIN) {
                throw e;
            }
        }
        // Contended: wait on a thread of our own, so blocked waiters never hold the transport's
        // workers (with as many waiters as workers, the unlock that frees them could not get in).
        Reply later = reply.detach();
        s.lockWaiters.execute(() -> {
            Errno failure = null;
            s.interrupts.begin(req.unique());
            try {
                s.backend.setlk(req.ctx, h.node(), h.backendFh(), lock, true, flock);
            } catch (FsException e) {
                failure = e.errno();
            } catch (RuntimeException e) {
                failure = Errno.EIO;
            } finally {
                // Deregister before answering: once the kernel has the reply, an INTERRUPT for this
                // unique must find nothing to wake.
                s.interrupts.end(req.unique());
            }
            if (failure == null) {
                later.ok();
            } else {
                later.error(failure);
            }
        });
    }
}
