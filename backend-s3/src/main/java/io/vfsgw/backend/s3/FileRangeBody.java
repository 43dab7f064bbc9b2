package io.vfsgw.backend.s3;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Optional;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncRequestBody;

/**
 * A request body read with positional reads from a range of a staging file. Unlike the SDK's
 * file body it does not fail when the file grows meanwhile, which is exactly what a streaming
 * upload does (parts leave while later bytes are still being appended). Each subscription starts
 * over, so SDK retries resend the same bytes.
 */
final class FileRangeBody implements AsyncRequestBody {
    private static final int CHUNK = 256 << 10;

    private final FileChannel channel;
    private final long start;
    private final long end;

    FileRangeBody(FileChannel channel, long start, long length) {
        this.channel = channel;
        this.start = start;
        this.end = start + length;
    }

    @Override
    public Optional<Long> contentLength() {
        return Optional.of(end - start);
    }

    @Override
    public void subscribe(Subscriber<? super ByteBuffer> s) {
        s.onSubscribe(new Subscription() {
            private long pos = start;
            private long demand;
            private boolean emitting;
            private boolean finished;

            @Override
            public void request(long n) {
                synchronized (this) {
                    if (finished) {
                        return;
                    }
                    if (n <= 0) {
                        finished = true;
                        s.onError(new IllegalArgumentException("request(" + n + ") violates reactive streams 3.9"));
                        return;
                    }
                    demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
                    if (emitting) {
                        return;   // onNext called request() re-entrantly: the running loop picks it up
                    }
                    emitting = true;
                }
                while (true) {
                    synchronized (this) {
                        if (finished || demand == 0) {
                            emitting = false;
                            return;
                        }
                        demand--;
                    }
                    ByteBuffer b;
                    try {
                        b = readChunk();
                    } catch (IOException e) {
                        synchronized (this) {
                            finished = true;
                        }
                        s.onError(e);
                        return;
                    }
                    s.onNext(b);
                    if (pos >= end) {
                        synchronized (this) {
                            finished = true;
                        }
                        s.onComplete();
                        return;
                    }
                }
            }

            private ByteBuffer readChunk() throws IOException {
                ByteBuffer b = ByteBuffer.allocate((int) Math.min(CHUNK, end - pos));
                while (b.hasRemaining()) {
                    int n = channel.read(b, pos);
                    if (n < 0) {
                        throw new EOFException("staging file ends at " + pos + ", expected " + end);
                    }
                    pos += n;
                }
                return b.flip();
            }

            @Override
            public synchronized void cancel() {
                finished = true;
            }
        });
    }
}
