package io.vfsgw.session;

import io.vfsgw.fuse.OutHeader;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.ReadSink;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One FUSE reply, written into the transport's reply views. Exactly one of ok/okData/error/none
 * happens; {@link #close()} answers EIO if a handler forgot, so no guest request is left hanging.
 * The out-header is written last, after the body is in place.
 */
final class Reply implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Reply.class);

    private final ByteBuffer[] views;
    private final long unique;
    private final FuseRequestHandler.ReplyCompletion completion;
    private final int capacity;
    private volatile boolean done;
    private volatile boolean detached;
    private SegmentsReadSink sink;

    Reply(ByteBuffer[] views, long unique, FuseRequestHandler.ReplyCompletion completion) {
        this.views = views;
        this.unique = unique;
        this.completion = completion;
        this.capacity = Segments.totalLength(views);
    }

    /** Bytes of body that fit after the out-header. */
    int bodyCapacity() {
        return Math.max(0, capacity - OutHeader.SIZE);
    }

    /** Sends {@code body} (position..limit) as the reply. */
    void ok(ByteBuffer body) {
        int n = body.remaining();
        if (n > bodyCapacity()) {
            LOG.warn("reply of {} bytes does not fit the {} bytes of reply buffers (unique={})",
                    n, bodyCapacity(), unique);
            error(Errno.EIO);
            return;
        }
        ByteBuffer first = views[0];
        if (first.limit() >= OutHeader.SIZE + n) {
            first.put(OutHeader.SIZE, body, body.position(), n); // the usual case: one reply buffer
        } else {
            Segments out = new Segments(views, capacity);
            out.skip(OutHeader.SIZE);
            out.put(body);
        }
        finish(0, n);
    }

    /** An empty successful reply (just the header). */
    void ok() {
        finish(0, 0);
    }

    /** The data area of a READ-like reply, at most {@code size} bytes. */
    ReadSink dataSink(int size) {
        Segments out = new Segments(views, capacity);
        out.skip(Math.min(OutHeader.SIZE, capacity));
        sink = new SegmentsReadSink(out, size);
        return sink;
    }

    /** Completes a reply whose body was written through {@link #dataSink(int)}. */
    void okData() {
        finish(0, sink == null ? 0 : sink.filled());
    }

    void error(Errno e) {
        finish(-e.code(), 0);
    }

    /** No reply at all (FORGET, BATCH_FORGET, INTERRUPT); the transport still returns the buffers. */
    void none() {
        markDone();
        completion.complete(0);
    }

    boolean isDone() {
        return done;
    }

    /**
     * Hands the reply to another thread that will answer later (a lock wait): the dispatcher's
     * {@link #close()} then leaves it alone, and the transport's worker moves on.
     */
    Reply detach() {
        detached = true;
        return this;
    }

    @Override
    public void close() {
        if (!done && !detached) {
            LOG.warn("no reply for unique={}, answering EIO", unique);
            error(Errno.EIO);
        }
    }

    private void finish(int error, int bodyLength) {
        markDone();
        if (capacity < OutHeader.SIZE) {
            LOG.warn("reply buffers of {} bytes cannot hold a reply header (unique={}); dropping", capacity, unique);
            completion.complete(0);
            return;
        }
        int len = OutHeader.SIZE + bodyLength;
        OutHeader h = new OutHeader(len, error, unique);
        if (views[0].limit() >= OutHeader.SIZE && views[0].order() == ByteOrder.LITTLE_ENDIAN) {
            h.writeAt(views[0], 0); // the usual case: the header's descriptor holds it whole
        } else {
            ByteBuffer header = ByteBuffer.allocate(OutHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN);
            h.encodeTo(header);
            header.flip();
            new Segments(views, capacity).put(header);
        }
        completion.complete(len);
    }

    private synchronized void markDone() {
        if (done) {
            throw new IllegalStateException("second reply for unique=" + unique);
        }
        done = true;
    }
}
