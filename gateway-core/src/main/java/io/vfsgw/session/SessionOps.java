package io.vfsgw.session;

import io.vfsgw.fuse.InitIn;
import io.vfsgw.fuse.InitNegotiation;
import io.vfsgw.fuse.InterruptIn;
import io.vfsgw.fuse.Kstatfs;
import io.vfsgw.fuse.MalformedRequestException;
import io.vfsgw.fuse.StatfsOut;
import io.vfsgw.fuse.SyncfsIn;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.StatFs;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** INIT, DESTROY, STATFS, SYNCFS and INTERRUPT: the connection-wide operations. */
final class SessionOps {
    private static final Logger LOG = LoggerFactory.getLogger(SessionOps.class);
    private final FuseSession s;

    SessionOps(FuseSession s) {
        this.s = s;
    }

    void init(Request req, Reply reply) throws FsException, MalformedRequestException {
        InitIn in = InitIn.decode(req.body);
        InitNegotiation.Result r = InitNegotiation.negotiate(in, s.config.initPolicy());
        ByteBuffer b = Wire.buffer(r.replySize());
        r.reply().encodeTo(b);
        b.flip();
        b.limit(r.replySize());
        r.protocol().ifPresent(p -> {
            if (s.protocol != null || s.isDestroyed()) {
                // A new mount on this connection (virtio-fs remount after DESTROY, or a re-INIT).
                LOG.info("{} session {}: new INIT, releasing what the previous mount held", s.config.transport(), s.id);
                s.releaseAll();
                s.clearDestroyed();
            }
            s.protocol = p;
            LOG.info("{} session {}: FUSE {}.{} (kernel offered 7.{}), max_write {}, flags {}",
                    s.config.transport(), s.id, 7, p.minor(), p.kernelMinor(), p.maxWrite(),
                    Long.toHexString(p.flags()));
        });
        reply.ok(b);
    }

    void destroy(Request req, Reply reply) {
        s.markDestroyed();
        reply.ok();
    }

    void statfs(Request req, Reply reply) throws FsException {
        StatFs st = s.backend.statfs(req.ctx, s.requireNode(req.nodeid()));
        int size = StatfsOut.replySize(s.protocol.minor());
        ByteBuffer b = Wire.buffer(StatfsOut.SIZE);
        new StatfsOut(Kstatfs.of(st)).encodeTo(b, s.protocol.minor());
        b.flip();
        b.limit(size);
        reply.ok(b);
    }

    void syncfs(Request req, Reply reply) throws FsException, MalformedRequestException {
        SyncfsIn.decode(req.body);
        s.backend.syncfs(req.ctx);
        reply.ok();
    }

    void interrupt(Request req, Reply reply) throws MalformedRequestException {
        InterruptIn in = InterruptIn.decode(req.body);
        s.interrupts.interrupt(in.unique());
        // INTERRUPT never gets a reply of its own; the interrupted request answers (EINTR or done).
        reply.none();
    }
}
