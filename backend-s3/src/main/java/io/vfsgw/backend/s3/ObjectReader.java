package io.vfsgw.backend.s3;

import io.vfsgw.spi.FsException;
import io.vfsgw.spi.ReadSink;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * Reads one object for one open handle. A read at the offset where the last one ended is
 * sequential: we keep a queue of ranged GETs ahead of the reader whose part size doubles from
 * {@value #FIRST_PART} up to the part size and whose window doubles (up to readAheadMax) each time
 * the reader consumes a whole part, so a streaming reader soon has several parts in flight while
 * a reader that only wants the head of a file costs one small GET. Any other read is random: the queue is dropped
 * and exactly the requested range (clipped at EOF) is fetched, so small random reads never
 * over-fetch. (mountpoint-s3's prefetcher works the same way.)
 *
 * <p>With a {@link ChunkCache}, a read whose chunks are all on disk is answered from there (no
 * GET), and the bytes the GETs return also fill the cache as they pass to the reader.
 */
final class ObjectReader implements AutoCloseable {
    static final int FIRST_PART = 256 << 10;

    private final S3AsyncClient s3;
    private final String bucket;
    private final String key;
    private final String etag;
    private final long size;
    private final int maxPart;
    private final long maxWindow;
    private final int maxParts;
    private final Duration timeout;
    private final ArrayDeque<RangeStream> ahead = new ArrayDeque<>();
    private long expectedOffset;   // where a sequential read continues; 0 so the first read at 0 streams
    private int nextPart = FIRST_PART;
    private long window = FIRST_PART;
    private final ChunkCache cache;
    private final String objectId;
    private final ChunkCache.Filler filler;
    /** Bytes streamed past for a READ that arrived early (see skipForwardTo); null until needed. */
    private ByteBuffer skipped;
    private long skippedStart;
    /**
     * Fair: READs queue for the handle in the order the workers took them from the kernel. An
     * unfair monitor let one READ lose the race again and again while later ones streamed past.
     */
    private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock(true);
    /** Size of the previous READ: the unit of "a little out of order". */
    private int lastLen;
    /** The whole object, fetched before the handle was opened (HeadAhead), or null: then no GET at all. */
    private final ByteBuffer whole;

    ObjectReader(S3AsyncClient s3, String bucket, String key, String etag, long size, S3Options o) {
        this(s3, bucket, key, etag, size, o, null);
    }

    /** {@code cache} may be null (no cache); an object without ETag is never cached. */
    ObjectReader(S3AsyncClient s3, String bucket, String key, String etag, long size, S3Options o, ChunkCache cache) {
        this(s3, bucket, key, etag, size, o, cache, null);
    }

    /** {@code whole}: the object's {@code size} bytes as of {@code etag}, read from instead of S3; or null. */
    ObjectReader(S3AsyncClient s3, String bucket, String key, String etag, long size, S3Options o, ChunkCache cache,
                 ByteBuffer whole) {
        if (whole != null && whole.remaining() != size) {
            throw new IllegalArgumentException("whole object of " + whole.remaining() + " bytes for size " + size);
        }
        this.whole = whole;
        this.cache = etag == null ? null : cache;
        this.objectId = this.cache == null ? null : ChunkCache.objectId(key, etag);
        this.filler = this.cache == null ? null : this.cache.new Filler(objectId, size);
        this.s3 = s3;
        this.bucket = bucket;
        this.key = key;
        this.etag = etag;
        this.size = size;
        this.maxPart = o.partSize();
        this.maxWindow = Math.max(o.readAheadMax(), o.partSize());
        this.maxParts = Math.max(2, o.maxInflightParts());
        this.timeout = o.attemptTimeout();
    }

    void read(long offset, ReadSink sink) throws FsException {
        lock.lock();
        try {
            readLocked(offset, sink);
        } catch (FsException | RuntimeException e) {
            // A failed GET must not stay queued: the next READ would find it exhausted and answer
            // EOF (an object replaced under the handle read as empty instead of ESTALE).
            reset();
            skipped = null;
            throw e;
        } finally {
            lock.unlock();
        }
    }

    private void readLocked(long offset, ReadSink sink) throws FsException {
        if (offset >= size || sink.remaining() == 0) {
            return;
        }
        int want = (int) Math.min(sink.remaining(), size - offset);
        if (whole != null) {
            int from = whole.position() + (int) offset;
            sink.put(whole.duplicate().limit(from + want).position(from));
            return;
        }
        if (cache != null && cache.read(objectId, size, offset, want, sink)) {
            expectedOffset = offset + want;
            return;
        }
        if (skipped != null && offset >= skippedStart && offset + want <= skippedStart + skipped.limit()) {
            // a read the kernel sent earlier than the one we streamed past: its bytes were kept
            sink.put(skipped.duplicate().position((int) (offset - skippedStart)).limit((int) (offset - skippedStart) + want));
            return;
        }
        ReadSink plain = sink;
        if (cache != null) {
            sink = new TeeSink(sink, offset);
        }
        long gap = offset - expectedOffset;
        if (gap > 0 && gap <= 4L * Math.max(lastLen, want)) {
            // A few READs' worth ahead of where the reader stands: the READs in between are on
            // their way (out of order), so make the stream reach this READ (starting where they
            // start). A random reader's jumps are far larger than its READs: no over-fetch for it.
            window = Math.max(window, gap + want);
            fill(ahead.isEmpty() ? expectedOffset : ahead.peekFirst().position());
        }
        lastLen = want;
        if (offset != expectedOffset && !skipForwardTo(offset)) {
            // behind the stream: a READ that lost the race for the lock; one exact GET, keep the stream.
            // Without a stream (a random reader) a READ behind the last one is just another random READ.
            boolean late = !ahead.isEmpty() && offset < expectedOffset && expectedOffset - offset <= maxWindow;
            if (!late) {
                reset();
                if (cache != null && readWholeChunk(offset, want, plain)) {
                    expectedOffset = offset + want;
                    return;
                }
            }
            RangeStream exact = RangeStream.open(s3, bucket, key, etag, offset, offset + want);
            try {
                exact.drainTo(late ? sink : plain, want, timeout);
            } finally {
                exact.cancel();
            }
            if (!late) {
                expectedOffset = offset + want;
            }
            return;
        }
        // Sequential: make sure the queue starts here, top it up, then drain.
        if (!ahead.isEmpty() && ahead.peekFirst().position() != offset) {
            reset();
        }
        int copied = 0;
        while (copied < want) {
            fill(offset + copied);
            RangeStream head = ahead.peekFirst();
            int n = head.drainTo(sink, want - copied, timeout);
            copied += n;
            if (head.exhausted() || n == 0) {
                ahead.pollFirst().cancel();
                window = Math.min(maxWindow, 2 * window);   // the reader kept up: look further ahead
                if (n == 0) {
                    break;   // object shorter than its listed size: a short read at the real EOF
                }
            }
        }
        expectedOffset = offset + copied;
    }

    /**
     * The kernel's read-ahead sends several READs at once and our workers may take them out of
     * order: a read a little past where the stream stands is no reason to drop the stream. We
     * read the bytes in between into {@link #skipped} (at most {@value #REORDER_WINDOW}), where the
     * late READ finds them, and continue streaming from {@code offset}. False when the queue does
     * not reach {@code offset} within that distance.
     */
    private boolean skipForwardTo(long offset) throws FsException {
        if (ahead.isEmpty()) {
            return false;
        }
        long from = ahead.peekFirst().position();
        if (offset <= from || offset - from > REORDER_WINDOW || offset >= ahead.peekLast().end) {
            return false;
        }
        if (skipped == null) {
            skipped = ByteBuffer.allocateDirect(REORDER_WINDOW);
        }
        skipped.clear().limit((int) (offset - from));
        skippedStart = from;
        ReadSink into = new BufferSink(skipped);
        if (cache != null) {
            into = new TeeSink(into, from);
        }
        while (skipped.hasRemaining()) {
            RangeStream head = ahead.peekFirst();
            int n = head.drainTo(into, skipped.remaining(), timeout);
            if (head.exhausted() || n == 0) {
                ahead.pollFirst().cancel();
                if (n == 0 || ahead.isEmpty()) {
                    break;
                }
            }
        }
        skipped.flip();
        if (skipped.limit() != offset - from) {
            skipped = null;   // the object ended early: no stream to continue
            return false;
        }
        expectedOffset = offset;
        return true;
    }

    /**
     * A random READ inside one chunk that missed before: fetch the whole chunk with one GET, keep
     * it in the cache and answer from it, so a file read at random comes from S3 about twice per
     * chunk, not once per READ. A chunk's first miss costs only the exact bytes
     * ({@link ChunkCache#admit}): a one-off random read does not over-fetch. False (nothing
     * fetched, or the object ended early) leaves the READ to the exact GET.
     */
    private boolean readWholeChunk(long offset, int want, ReadSink sink) throws FsException {
        int chunkSize = cache.chunkSize();
        long idx = offset / chunkSize;
        if ((offset + want - 1) / chunkSize != idx || !cache.admit(objectId, idx)) {
            return false;
        }
        long start = idx * chunkSize;
        int len = (int) Math.min(chunkSize, size - start);
        // Not kept: a thousand handles reading at random must not each pin a chunk of memory.
        ByteBuffer chunk = ByteBuffer.allocate(len);
        RangeStream whole = RangeStream.open(s3, bucket, key, etag, start, start + len);
        try {
            whole.drainTo(new BufferSink(chunk), len, timeout);
        } finally {
            whole.cancel();
        }
        chunk.flip();
        if (chunk.limit() != len) {
            return false;
        }
        cache.store(objectId, idx, chunk);
        int at = (int) (offset - start);
        sink.put(chunk.duplicate().position(at).limit(at + want));
        return true;
    }

    /** How far out of order a READ may arrive and still count as part of a sequential stream. */
    static final int REORDER_WINDOW = 4 << 20;

    /** Queues GETs from {@code from} until the window is covered; grows part and window sizes. */
    private void fill(long from) {
        long next = ahead.isEmpty() ? from : ahead.peekLast().end;
        while (next < size && next - from < window && ahead.size() < maxParts) {
            long end = Math.min(size, next + nextPart);
            ahead.addLast(RangeStream.open(s3, bucket, key, etag, next, end));
            next = end;
            nextPart = (int) Math.min(maxPart, 2L * nextPart);
        }
    }

    private void reset() {
        for (RangeStream r : ahead) {
            r.cancel();
        }
        ahead.clear();
        nextPart = FIRST_PART;
        window = FIRST_PART;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            reset();
            skipped = null;
        } finally {
            lock.unlock();
        }
        if (filler != null) {
            filler.drop();
        }
    }

    /** A ReadSink filling a ByteBuffer (the skipped bytes). */
    private static final class BufferSink implements ReadSink {
        private final ByteBuffer buf;

        BufferSink(ByteBuffer buf) {
            this.buf = buf;
        }

        @Override
        public int remaining() {
            return buf.remaining();
        }

        @Override
        public void put(ByteBuffer src) {
            int n = Math.min(src.remaining(), buf.remaining());
            ByteBuffer s = src.slice();
            s.limit(n);
            buf.put(s);
            src.position(src.position() + n);
        }

        @Override
        public void putZeros(int count) {
            for (int i = 0; i < count; i++) {
                buf.put((byte) 0);
            }
        }

        @Override
        public ByteBuffer[] views(int max) {
            ByteBuffer v = buf.slice();
            v.limit(Math.min(max, v.remaining()));
            return new ByteBuffer[] {v};
        }

        @Override
        public void advance(int n) {
            buf.position(buf.position() + n);
        }
    }

    /** Passes GET bytes to the reader's sink and, on the way, to the chunk cache's filler. */
    private final class TeeSink implements ReadSink {
        private final ReadSink sink;
        private long pos;

        TeeSink(ReadSink sink, long offset) {
            this.sink = sink;
            this.pos = offset;
        }

        @Override
        public int remaining() {
            return sink.remaining();
        }

        @Override
        public void put(ByteBuffer src) {
            int n = Math.min(src.remaining(), sink.remaining());
            ByteBuffer seen = src.slice();
            seen.limit(n);
            filler.accept(pos, seen);
            sink.put(src);
            pos += n;
        }

        @Override
        public void putZeros(int count) {
            filler.drop();
            sink.putZeros(count);
            pos += count;
        }

        @Override
        public ByteBuffer[] views(int max) {
            throw new UnsupportedOperationException("GET bodies arrive through put()");
        }

        @Override
        public void advance(int n) {
            throw new UnsupportedOperationException("GET bodies arrive through put()");
        }
    }
}
