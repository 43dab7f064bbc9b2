package io.vfsgw.backend.s3;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.ReadSink;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.ResponsePublisher;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * One ranged GET whose body the caller drains into a {@link ReadSink} as it arrives. The SDK's
 * Netty client hands us ByteBuffers it already copied out of its pooled buffers, so keeping them
 * in a queue costs nothing; the single copy we make is buffer -> sink, on the caller's thread
 * (never on a Netty thread, so a timed-out read can never scribble into a reply buffer later).
 */
final class RangeStream implements Subscriber<ByteBuffer> {
    private static final Object END = new Object();

    final long start;
    final long end;
    private long pos;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final CompletableFuture<ResponsePublisher<GetObjectResponse>> response;
    private volatile Subscription subscription;
    private ByteBuffer current;
    private boolean done;
    /** Set by cancel(), read by SDK threads: a body arriving after cancel is refused at once. */
    private volatile boolean cancelled;

    private RangeStream(S3AsyncClient s3, String bucket, String key, String etag, long start, long end) {
        this.start = start;
        this.end = end;
        this.pos = start;
        GetObjectRequest.Builder req = GetObjectRequest.builder().bucket(bucket).key(key)
                .range("bytes=" + start + "-" + (end - 1));
        if (etag != null) {
            req.ifMatch(etag);   // the object changed under the handle: 412 -> ESTALE, never mixed bytes
        }
        this.response = s3.getObject(req.build(), AsyncResponseTransformer.toPublisher());
        response.whenComplete((pub, err) -> {
            if (err != null) {
                queue.add(err);
            } else {
                pub.subscribe(this);
            }
        });
    }

    /** Starts GET bytes [start, end) of the object; end > start. */
    static RangeStream open(S3AsyncClient s3, String bucket, String key, String etag, long start, long end) {
        return new RangeStream(s3, bucket, key, etag, start, end);
    }

    /** The next offset this stream will hand out. */
    long position() {
        return pos;
    }

    boolean exhausted() {
        return pos >= end;
    }

    /**
     * Copies up to {@code max} bytes (and what the sink takes) into the sink, waiting for the body
     * as needed; returns the count, fewer than asked only when the object ended early.
     */
    int drainTo(ReadSink sink, int max, Duration timeout) throws FsException {
        int copied = 0;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (copied < max && sink.remaining() > 0 && pos < end) {
            if (current == null || !current.hasRemaining()) {
                if (done) {
                    break;
                }
                Object next;
                try {
                    next = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw FsException.of(Errno.EINTR, "read interrupted");
                }
                if (next == null) {
                    cancel();
                    throw FsException.of(Errno.EIO, "S3 read timed out after " + timeout);
                }
                if (next == END) {
                    done = true;
                    continue;
                }
                if (next instanceof Throwable t) {
                    done = true;
                    throw S3Errors.toFsException(t, "GET bytes " + start + "-" + (end - 1));
                }
                current = (ByteBuffer) next;
                continue;
            }
            int n = Math.min(Math.min(max - copied, sink.remaining()), current.remaining());
            ByteBuffer slice = current.slice();
            slice.limit(n);
            sink.put(slice);
            current.position(current.position() + n);
            copied += n;
            pos += n;
        }
        return copied;
    }

    /**
     * Stops the transfer (read-ahead no longer wanted); the SDK then closes the connection. A
     * stream whose every byte has arrived is left to complete instead: cancelling it between its
     * last byte and its end would throw away a pooled connection, and every small random read would
     * pay for a new one.
     */
    void cancel() {
        done = true;
        if (pos >= end) {
            queue.clear();
            return;
        }
        cancelled = true;
        Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
        // Otherwise onSubscribe cancels once the response is here. Cancelling the response future
        // instead would leave the SDK's publisher unsubscribed, holding its connection and body
        // until the SDK's own 60 s timeout gives up on it (with a warning and a stack in the log).
        queue.clear();
    }

    /** True once the SDK has handed over the response (to drain or to cancel) or failed it. */
    boolean responseSettled() {
        return subscription != null || (response.isCompletedExceptionally() && !response.isCancelled());
    }

    @Override
    public void onSubscribe(Subscription s) {
        subscription = s;
        if (cancelled) {
            s.cancel();   // read-ahead dropped before its response arrived
            return;
        }
        // Bounded by the range (at most one part): the SDK may deliver as fast as the wire allows.
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(ByteBuffer b) {
        if (!cancelled) {
            queue.add(b);
        }
    }

    @Override
    public void onError(Throwable t) {
        queue.add(t);
    }

    @Override
    public void onComplete() {
        queue.add(END);
    }
}
