package io.vfsgw.spi;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** A {@link ReadSink} over one heap buffer, for backend tests: what a READ reply buffer would hold. */
public final class BufferReadSink implements ReadSink {
    private final ByteBuffer buf;

    /** A sink that wants up to {@code capacity} bytes. */
    public BufferReadSink(int capacity) {
        this.buf = ByteBuffer.allocate(capacity);
    }

    @Override
    public int remaining() {
        return buf.remaining();
    }

    @Override
    public void put(ByteBuffer src) {
        int n = Math.min(src.remaining(), buf.remaining());
        ByteBuffer part = src.duplicate();
        part.limit(part.position() + n);
        buf.put(part);
        src.position(src.position() + n);
    }

    @Override
    public void putZeros(int count) {
        if (count < 0 || count > buf.remaining()) {
            throw new IllegalArgumentException("putZeros(" + count + ") with " + buf.remaining() + " remaining");
        }
        Arrays.fill(buf.array(), buf.arrayOffset() + buf.position(), buf.arrayOffset() + buf.position() + count,
                (byte) 0);
        buf.position(buf.position() + count);
    }

    @Override
    public ByteBuffer[] views(int max) {
        ByteBuffer v = buf.slice();
        v.limit(Math.min(Math.max(max, 0), v.remaining()));
        return new ByteBuffer[] {v};
    }

    @Override
    public void advance(int n) {
        if (n < 0 || n > buf.remaining()) {
            throw new IllegalArgumentException("advance(" + n + ") with " + buf.remaining() + " remaining");
        }
        buf.position(buf.position() + n);
    }

    /** Bytes filled so far. */
    public int filled() {
        return buf.position();
    }

    /** A copy of the filled bytes. */
    public byte[] bytes() {
        return Arrays.copyOf(buf.array(), buf.position());
    }
}
