package io.vfsgw.spi;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A {@link WriteSource} over one heap buffer, for backend tests: what a WRITE request would carry. */
public final class BufferWriteSource implements WriteSource {
    private final ByteBuffer buf;

    /** Drains {@code data} from its position to its limit (the argument itself is not moved). */
    public BufferWriteSource(ByteBuffer data) {
        this.buf = data.duplicate();
    }

    public static BufferWriteSource of(byte[] data) {
        return new BufferWriteSource(ByteBuffer.wrap(data));
    }

    /** The data in native memory, as a request in guest memory is: backends write from it with no copy. */
    public static BufferWriteSource direct(byte[] data) {
        return new BufferWriteSource(ByteBuffer.allocateDirect(data.length).put(data).flip());
    }

    public static BufferWriteSource of(String utf8) {
        return of(utf8.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int remaining() {
        return buf.remaining();
    }

    @Override
    public int copyTo(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), buf.remaining());
        ByteBuffer part = buf.duplicate();
        part.limit(part.position() + n);
        dst.put(part);
        buf.position(buf.position() + n);
        return n;
    }

    @Override
    public ByteBuffer[] views() {
        return new ByteBuffer[] {buf.asReadOnlyBuffer()};
    }

    @Override
    public void advance(int n) {
        if (n < 0 || n > buf.remaining()) {
            throw new IllegalArgumentException("advance(" + n + ") with " + buf.remaining() + " remaining");
        }
        buf.position(buf.position() + n);
    }
}
