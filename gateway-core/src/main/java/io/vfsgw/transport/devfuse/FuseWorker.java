package io.vfsgw.transport.devfuse;

import io.vfsgw.nativeio.FuseDevice;
import io.vfsgw.session.FuseRequestHandler;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One reader thread's loop: read a request from its own /dev/fuse fd, hand it to the session,
 * write the reply to the same fd (the kernel matches a reply only on the fd that read its request).
 *
 * <p>The request and reply buffers belong to this worker. A request the handler answers later (a
 * lock wait) keeps the reply buffer it was given, and the worker goes on with a fresh one, so a
 * blocked request never holds a reader thread.
 */
final class FuseWorker implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(FuseWorker.class);
    private static final int OUT_HEADER_SIZE = 16;
    private static final int IN_HEADER_SIZE = 40;

    private final int index;
    private final FuseDevice device;
    private final FuseRequestHandler handler;
    private final ByteBuffer requestBuffer;
    private final int bufferSize;
    private ByteBuffer replyBuffer;
    private final LongAdder served = new LongAdder();

    private final Runnable afterFirstReply;

    /** @param afterFirstReply run after each reply this worker writes until it has run once (INIT's) */
    FuseWorker(int index, FuseDevice device, FuseRequestHandler handler, int bufferSize, Runnable afterFirstReply) {
        this.afterFirstReply = afterFirstReply;
        this.index = index;
        this.device = device;
        this.handler = handler;
        this.requestBuffer = ByteBuffer.allocateDirect(bufferSize);
        this.bufferSize = bufferSize;
        this.replyBuffer = ByteBuffer.allocateDirect(bufferSize).order(ByteOrder.LITTLE_ENDIAN);
    }

    FuseDevice device() {
        return device;
    }

    /** Requests read by this worker so far. */
    long served() {
        return served.sum();
    }

    @Override
    public void run() {
        while (!Thread.currentThread().isInterrupted()) {
            int length;
            try {
                length = device.read(requestBuffer);
            } catch (FsException e) {
                if (e.errno() == Errno.ENOENT || e.errno() == Errno.EINTR || e.errno() == Errno.EAGAIN) {
                    continue; // interrupted before we read it, or a signal: nothing lost
                }
                if (e.errno() == Errno.ENODEV) {
                    LOG.debug("worker {}: filesystem unmounted, loop ends", index);
                } else {
                    LOG.error("worker {}: reading /dev/fuse failed, loop ends: {}", index, e.getMessage());
                }
                return;
            }
            served.increment();
            if (!serve(length)) {
                return;
            }
        }
    }

    /** Hands one request to the session; false if the worker was interrupted meanwhile. */
    private boolean serve(int length) {
        ByteBuffer request = requestBuffer.duplicate().clear().limit(length).slice()
                .asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer reply = replyBuffer.duplicate().clear().slice().order(ByteOrder.LITTLE_ENDIAN);
        long unique = length >= IN_HEADER_SIZE ? request.getLong(8) : 0;
        Completion completion = new Completion(unique, replyBuffer);
        try {
            handler.handle(new ByteBuffer[] {request}, new ByteBuffer[] {reply}, completion);
        } catch (RuntimeException e) {
            // A bug in the session: answer EIO so the calling process is not left hanging.
            LOG.error("worker {}: handler threw for opcode {} unique {}", index,
                    length >= IN_HEADER_SIZE ? request.getInt(4) : -1, unique, e);
            completion.answerEio();
        }
        if (!completion.isFinished()) {
            // Answered later from another thread: that reply owns the buffer now.
            replyBuffer = ByteBuffer.allocateDirect(bufferSize).order(ByteOrder.LITTLE_ENDIAN);
        }
        return !Thread.currentThread().isInterrupted();
    }

    /** The once-only completion of one request; writes the reply from the worker's reply buffer. */
    private final class Completion implements FuseRequestHandler.ReplyCompletion {
        private final long unique;
        private final ByteBuffer replyBuffer;
        private final AtomicBoolean done = new AtomicBoolean();
        /** Set once the reply left the buffer (written or dropped): only then may the worker reuse it. */
        private volatile boolean finished;

        Completion(long unique, ByteBuffer replyBuffer) {
            this.unique = unique;
            this.replyBuffer = replyBuffer;
        }

        boolean isFinished() {
            return finished;
        }

        @Override
        public void complete(int replyLength) {
            if (!done.compareAndSet(false, true)) {
                throw new IllegalStateException("second completion for unique " + unique);
            }
            try {
                if (replyLength < 0 || replyLength > replyBuffer.capacity()
                        || (replyLength > 0 && replyLength < OUT_HEADER_SIZE)) {
                    LOG.error("worker {}: reply length {} for unique {} is impossible, answering EIO",
                            index, replyLength, unique);
                    writeEio();
                } else if (replyLength > 0) {
                    write(replyLength);
                }
            } catch (RuntimeException e) {
                LOG.error("worker {}: writing the reply to unique {} failed", index, unique, e);
            } finally {
                finished = true;
            }
        }

        void answerEio() {
            if (done.compareAndSet(false, true)) {
                try {
                    writeEio();
                } finally {
                    finished = true;
                }
            }
        }

        private void writeEio() {
            replyBuffer.putInt(0, OUT_HEADER_SIZE);
            replyBuffer.putInt(4, -Errno.EIO.code());
            replyBuffer.putLong(8, unique);
            write(OUT_HEADER_SIZE);
        }

        private void write(int replyLength) {
            try {
                device.write(replyBuffer, replyLength);
                afterFirstReply.run();
            } catch (FsException e) {
                if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENODEV) {
                    // ENOENT: interrupted and already answered by the kernel; ENODEV: unmounted meanwhile.
                    LOG.debug("worker {}: reply to unique {} dropped: {}", index, unique, e.getMessage());
                } else {
                    LOG.warn("worker {}: reply to unique {} refused: {}", index, unique, e.getMessage());
                }
            }
        }
    }
}
