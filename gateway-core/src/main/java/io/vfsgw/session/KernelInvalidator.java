package io.vfsgw.session;

import io.vfsgw.cache.ChangeListener;
import io.vfsgw.fuse.NotifyCode;
import io.vfsgw.fuse.NotifyInvalEntryOut;
import io.vfsgw.fuse.NotifyInvalInodeOut;
import io.vfsgw.fuse.OutHeader;
import io.vfsgw.spi.FileName;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Tells this session's kernel (over /dev/fuse) about changes other sessions made, so its caches drop
 * them at once. Runs on its own thread: a notification sent from inside a request handler could
 * deadlock against locks the kernel holds for that request.
 */
final class KernelInvalidator implements ChangeListener {
    private final FuseSession s;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "vfsgw-notify");
        t.setDaemon(true);
        return t;
    });

    KernelInvalidator(FuseSession s) {
        this.s = s;
    }

    private boolean relevant(long origin, long node) {
        return origin != s.id && s.notifier() != null && s.protocol != null && s.nodes.isKnown(node);
    }

    @Override
    public void nodeChanged(long origin, long node) {
        if (!relevant(origin, node)) {
            return;
        }
        submit(() -> {
            ByteBuffer b = Wire.buffer(OutHeader.SIZE + NotifyInvalInodeOut.SIZE);
            new OutHeader(b.capacity(), NotifyCode.FUSE_NOTIFY_INVAL_INODE, 0).encodeTo(b);
            new NotifyInvalInodeOut(node, 0, 0).encodeTo(b);
            b.flip();
            s.notifier().send(b);
        });
    }

    @Override
    public void entryChanged(long origin, long parent, FileName name) {
        if (!relevant(origin, parent)) {
            return;
        }
        submit(() -> {
            byte[] raw = name.bytes();
            ByteBuffer b = Wire.buffer(OutHeader.SIZE + NotifyInvalEntryOut.SIZE + raw.length + 1);
            new OutHeader(b.capacity(), NotifyCode.FUSE_NOTIFY_INVAL_ENTRY, 0).encodeTo(b);
            new NotifyInvalEntryOut(parent, raw.length, 0).encodeTo(b);
            b.put(raw).put((byte) 0);
            b.flip();
            s.notifier().send(b);
        });
    }

    private void submit(Runnable notification) {
        try {
            worker.execute(notification);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // the session is closing: its kernel is going away and needs no more invalidations
        }
    }

    /** Stops the notifier thread; called when the session closes (each connection has one). */
    void close() {
        worker.shutdown();
    }
}
