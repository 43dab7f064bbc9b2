package io.vfsgw.spi;

import java.nio.ByteBuffer;

/** A {@link ReadSink} over one buffer, for backend tests: what a READ reply buffer would hold. */
public final class BufferReadSink implements ReadSink {
    private final ByteBuffer buf;

    /** A sink that wants up to {@code capacity} bytes, in a heap buffer. */
    public BufferReadSink(int capacity) {
        this(ByteBuffer.allocate(capacity));
    }

    private BufferReadSink(ByteBuffer buf) {
        this.buf = buf;
    }

    /** A sink in native memory, as guest memory or the /dev/fuse buffer is: backends read into it with no copy. */
    public static BufferReadSink direct(int capacity) {
        return new BufferReadSink(ByteBuffer.allocateDirect(capacity));
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
        buf.put(ByteBuffer.allocate(count));
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
        byte[] out = new byte[buf.position()];
        buf.duplicate().flip().get(out);
        return out;
    }
}
