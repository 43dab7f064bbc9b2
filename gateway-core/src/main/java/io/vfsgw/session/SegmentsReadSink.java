package io.vfsgw.session;

import io.vfsgw.spi.ReadSink;
import java.nio.ByteBuffer;

/** A READ's data destination: the reply views after the out-header, capped at the READ's size. */
final class SegmentsReadSink implements ReadSink {
    private final Segments out;
    private final int cap;
    private int filled;

    SegmentsReadSink(Segments out, int size) {
        this.out = out;
        this.cap = Math.min(size, out.remaining());
    }

    @Override
    public int remaining() {
        return cap - filled;
    }

    @Override
    public void put(ByteBuffer src) {
        int n = Math.min(src.remaining(), remaining());
        if (n == src.remaining()) {
            out.put(src);
        } else {
            ByteBuffer part = src.slice(src.position(), n);
            out.put(part);
            src.position(src.position() + n);
        }
        filled += n;
    }

    @Override
    public void putZeros(int count) {
        if (count > remaining()) {
            throw new IllegalArgumentException("zeros past the READ size");
        }
        out.putZeros(count);
        filled += count;
    }

    @Override
    public ByteBuffer[] views(int max) {
        return out.views(Math.min(max, remaining()));
    }

    @Override
    public void advance(int n) {
        if (n < 0 || n > remaining()) {
            throw new IllegalArgumentException("advance " + n);
        }
        out.skip(n);
        filled += n;
    }

    int filled() {
        return filled;
    }
}
