package io.vfsgw.session;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A cursor over a transport's buffer views (one /dev/fuse buffer, or several guest-memory
 * descriptors). Reads and writes advance across view boundaries; {@link #views(int)} hands out
 * slices for zero-copy I/O. Never copies unless the method says so.
 */
final class Segments {
    private final ByteBuffer[] parts;
    private final int limitTotal;
    private int index;
    private int offsetInPart;
    private int consumed;

    /** @param limitTotal how many bytes of the views count (e.g. the request's declared length) */
    Segments(ByteBuffer[] parts, int limitTotal) {
        this.parts = parts;
        this.limitTotal = Math.min(limitTotal, totalLength(parts));
    }

    static int totalLength(ByteBuffer[] parts) {
        long sum = 0;
        for (ByteBuffer b : parts) {
            sum += b.limit();
        }
        return (int) Math.min(sum, Integer.MAX_VALUE);
    }

    int remaining() {
        return limitTotal - consumed;
    }

    int position() {
        return consumed;
    }

    /** Copies n bytes into dst (at its position, advancing it). */
    void copyTo(ByteBuffer dst, int n) {
        if (n > remaining() || n > dst.remaining()) {
            throw new IllegalArgumentException("copy of " + n + " bytes past the end");
        }
        while (n > 0) {
            ByteBuffer p = parts[index];
            int avail = p.limit() - offsetInPart;
            if (avail == 0) {
                nextPart();
                continue;
            }
            int k = Math.min(avail, n);
            dst.put(dst.position(), p, offsetInPart, k);
            dst.position(dst.position() + k);
            advance(k);
            n -= k;
        }
    }

    /** Copies src (all of its remaining bytes, advancing it) into the views at the cursor. */
    void put(ByteBuffer src) {
        int n = src.remaining();
        if (n > remaining()) {
            throw new IllegalArgumentException("write of " + n + " bytes past the end of the reply buffers");
        }
        while (n > 0) {
            ByteBuffer p = parts[index];
            int avail = p.limit() - offsetInPart;
            if (avail == 0) {
                nextPart();
                continue;
            }
            int k = Math.min(avail, n);
            p.put(offsetInPart, src, src.position(), k);
            src.position(src.position() + k);
            advance(k);
            n -= k;
        }
    }

    /** Writes n zero bytes. */
    void putZeros(int n) {
        if (n > remaining()) {
            throw new IllegalArgumentException("zero fill past the end");
        }
        while (n > 0) {
            ByteBuffer p = parts[index];
            int avail = p.limit() - offsetInPart;
            if (avail == 0) {
                nextPart();
                continue;
            }
            int k = Math.min(avail, n);
            for (int i = 0; i < k; i++) {
                p.put(offsetInPart + i, (byte) 0);
            }
            advance(k);
            n -= k;
        }
    }

    /** Slices covering the next {@code max} bytes (or what remains), without advancing. */
    ByteBuffer[] views(int max) {
        int want = Math.min(max, remaining());
        List<ByteBuffer> out = new ArrayList<>(2);
        int i = index;
        int off = offsetInPart;
        while (want > 0 && i < parts.length) {
            ByteBuffer p = parts[i];
            int avail = p.limit() - off;
            if (avail > 0) {
                int k = Math.min(avail, want);
                out.add(p.slice(off, k).order(ByteOrder.LITTLE_ENDIAN));
                want -= k;
            }
            i++;
            off = 0;
        }
        return out.toArray(new ByteBuffer[0]);
    }

    void skip(int n) {
        if (n > remaining()) {
            throw new IllegalArgumentException("skip past the end");
        }
        while (n > 0) {
            ByteBuffer p = parts[index];
            int avail = p.limit() - offsetInPart;
            if (avail == 0) {
                nextPart();
                continue;
            }
            int k = Math.min(avail, n);
            advance(k);
            n -= k;
        }
    }

    private void advance(int k) {
        offsetInPart += k;
        consumed += k;
    }

    private void nextPart() {
        index++;
        offsetInPart = 0;
    }
}
