package io.vfsgw.session;

import io.vfsgw.spi.WriteSource;
import java.nio.ByteBuffer;

/** A WRITE's data: the request views after the write_in struct, exactly {@code size} bytes. */
final class SegmentsWriteSource implements WriteSource {
    private final Segments in;
    private final int size;
    private int used;

    SegmentsWriteSource(Segments in, int size) {
        this.in = in;
        this.size = size;
    }

    @Override
    public int remaining() {
        return size - used;
    }

    @Override
    public int copyTo(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), remaining());
        in.copyTo(dst, n);
        used += n;
        return n;
    }

    @Override
    public ByteBuffer[] views() {
        // Not read-only views: native pwritev needs the direct address; callers only read them.
        return in.views(remaining());
    }

    @Override
    public void advance(int n) {
        if (n < 0 || n > remaining()) {
            throw new IllegalArgumentException("advance " + n);
        }
        in.skip(n);
        used += n;
    }
}
