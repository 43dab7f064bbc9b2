package io.vfsgw.backend.s3;

import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.WriteSource;
import java.nio.ByteBuffer;

/** ReadSink / WriteSource over one heap buffer, standing in for the session's reply/request views. */
final class Buffers {
    private Buffers() {
    }

    static final class Sink implements ReadSink {
        final ByteBuffer buf;

        Sink(int size) {
            buf = ByteBuffer.allocate(size);
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

        /** The bytes filled so far. */
        ByteBuffer filled() {
            return buf.duplicate().flip();
        }
    }

    static final class Source implements WriteSource {
        private final ByteBuffer buf;

        Source(ByteBuffer data) {
            buf = data.duplicate();
        }

        @Override
        public int remaining() {
            return buf.remaining();
        }

        @Override
        public int copyTo(ByteBuffer dst) {
            int n = Math.min(dst.remaining(), buf.remaining());
            ByteBuffer s = buf.slice();
            s.limit(n);
            dst.put(s);
            buf.position(buf.position() + n);
            return n;
        }

        @Override
        public ByteBuffer[] views() {
            return new ByteBuffer[] {buf.slice().asReadOnlyBuffer()};
        }

        @Override
        public void advance(int n) {
            buf.position(buf.position() + n);
        }
    }
}
