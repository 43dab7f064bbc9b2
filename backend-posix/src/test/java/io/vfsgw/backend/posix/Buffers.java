package io.vfsgw.backend.posix;

import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.WriteSource;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Test sinks and sources over direct buffers split in two views, as a reply/request chain would be. */
final class Buffers {
    private Buffers() {
    }

    /** A READ reply buffer: two direct chunks of the given sizes. */
    static final class Sink implements ReadSink {
        final ByteBuffer[] parts;
        int filled;
        final int capacity;
        int viewsCalls;
        int copies;

        Sink(int first, int second) {
            parts = new ByteBuffer[] {ByteBuffer.allocateDirect(first), ByteBuffer.allocateDirect(second)};
            capacity = first + second;
        }

        @Override
        public int remaining() {
            return capacity - filled;
        }

        @Override
        public void put(ByteBuffer src) {
            copies++;
            while (src.hasRemaining() && remaining() > 0) {
                for (ByteBuffer p : parts) {
                    while (p.hasRemaining() && src.hasRemaining()) {
                        p.put(src.get());
                        filled++;
                    }
                }
            }
        }

        @Override
        public void putZeros(int count) {
            put(ByteBuffer.allocate(count));
        }

        @Override
        public ByteBuffer[] views(int max) {
            viewsCalls++;
            java.util.List<ByteBuffer> out = new java.util.ArrayList<>();
            int left = max;
            for (ByteBuffer p : parts) {
                if (p.hasRemaining() && left > 0) {
                    ByteBuffer v = p.duplicate();
                    v.limit(v.position() + Math.min(left, v.remaining()));
                    left -= v.remaining();
                    out.add(v);
                }
            }
            return out.toArray(new ByteBuffer[0]);
        }

        @Override
        public void advance(int n) {
            filled += n;
            for (ByteBuffer p : parts) {
                int k = Math.min(n, p.remaining());
                p.position(p.position() + k);
                n -= k;
            }
        }

        byte[] bytes() {
            byte[] b = new byte[filled];
            int i = 0;
            for (ByteBuffer p : parts) {
                ByteBuffer r = p.duplicate().flip();
                int k = Math.min(r.remaining(), filled - i);
                r.get(b, i, k);
                i += k;
            }
            return b;
        }

        String string() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }
    }

    /** A WRITE request body: the data in two direct chunks. */
    static final class Source implements WriteSource {
        final ByteBuffer[] parts;

        Source(byte[] data) {
            int half = data.length / 2;
            ByteBuffer a = ByteBuffer.allocateDirect(half);
            a.put(data, 0, half).flip();
            ByteBuffer b = ByteBuffer.allocateDirect(data.length - half);
            b.put(data, half, data.length - half).flip();
            parts = new ByteBuffer[] {a, b};
        }

        static Source of(String s) {
            return new Source(s.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public int remaining() {
            return parts[0].remaining() + parts[1].remaining();
        }

        @Override
        public int copyTo(ByteBuffer dst) {
            int n = 0;
            for (ByteBuffer p : parts) {
                while (p.hasRemaining() && dst.hasRemaining()) {
                    dst.put(p.get());
                    n++;
                }
            }
            return n;
        }

        @Override
        public ByteBuffer[] views() {
            return java.util.Arrays.stream(parts).filter(ByteBuffer::hasRemaining).map(ByteBuffer::asReadOnlyBuffer)
                    .toArray(ByteBuffer[]::new);
        }

        @Override
        public void advance(int n) {
            for (ByteBuffer p : parts) {
                int k = Math.min(n, p.remaining());
                p.position(p.position() + k);
                n -= k;
            }
        }
    }
}
