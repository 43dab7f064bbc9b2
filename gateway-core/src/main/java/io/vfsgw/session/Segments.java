package io.vfsgw.session;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A cursor over a transport's buffer views (one /dev/fuse buffer, or several guest-memory
 * descriptors). Reads and writes advance across view boundaries; {@link #views(int)} hands out
 * slices for zero-copy I/O. Never copies unless the method says so.
 */
final class Segments {
    /** Read-only source of zeros for holes; shared, never written. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();
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

    /**
     * One step of a walk: {@code k} bytes of {@code part} starting at {@code offset}, with the
     * walk's {@code other} buffer. Steps are static methods (non-capturing), so a walk allocates
     * nothing: a capturing lambda costs a runtime call per request under C1.
     */
    @FunctionalInterface
    private interface Step {
        void apply(ByteBuffer part, int offset, int k, ByteBuffer other);
    }

    /** Visits the next n bytes view by view, advancing the cursor. */
    private void walk(int n, String what, ByteBuffer other, Step step) {
        if (n < 0 || n > remaining()) {
            throw new IllegalArgumentException(what + " of " + n + " bytes past the end (" + remaining() + " left)");
        }
        while (n > 0) {
            ByteBuffer p = parts[index];
            int avail = p.limit() - offsetInPart;
            if (avail == 0) {
                index++;
                offsetInPart = 0;
                continue;
            }
            int k = Math.min(avail, n);
            step.apply(p, offsetInPart, k, other);
            offsetInPart += k;
            consumed += k;
            n -= k;
        }
    }

    /**
     * Copies bytes {@code [from, from + n)} of {@code parts} (counted across them) into dst at its
     * position, advancing it: a one-off copy that needs no cursor object.
     */
    static void copy(ByteBuffer[] parts, int from, ByteBuffer dst, int n) {
        int skip = from;
        int left = n;
        for (int i = 0; i < parts.length && left > 0; i++) {
            ByteBuffer p = parts[i];
            int len = p.limit();
            if (skip >= len) {
                skip -= len;
                continue;
            }
            int k = Math.min(len - skip, left);
            copyOut(p, skip, k, dst);
            left -= k;
            skip = 0;
        }
        if (left > 0) {
            throw new IllegalArgumentException("copy of " + n + " bytes from " + from + " runs past the views");
        }
    }

    /** Copies n bytes into dst (at its position, advancing it). */
    void copyTo(ByteBuffer dst, int n) {
        if (n > dst.remaining()) {
            throw new IllegalArgumentException("copy of " + n + " bytes into " + dst.remaining());
        }
        walk(n, "copy", dst, Segments::copyOut);
    }

    private static void copyOut(ByteBuffer p, int off, int k, ByteBuffer dst) {
        dst.put(dst.position(), p, off, k);
        dst.position(dst.position() + k);
    }

    /** Copies src (all of its remaining bytes, advancing it) into the views at the cursor. */
    void put(ByteBuffer src) {
        walk(src.remaining(), "write", src, Segments::copyIn);
    }

    private static void copyIn(ByteBuffer p, int off, int k, ByteBuffer src) {
        p.put(off, src, src.position(), k);
        src.position(src.position() + k);
    }

    /** Writes n zero bytes. */
    void putZeros(int n) {
        walk(n, "zero fill", ZEROS, Segments::fill);
    }

    private static void fill(ByteBuffer p, int off, int k, ByteBuffer zeros) {
        for (int done = 0; done < k; ) {
            int c = Math.min(k - done, zeros.capacity());
            p.put(off + done, zeros, 0, c);
            done += c;
        }
    }

    /**
     * Views covering the next {@code max} bytes (or what remains), without advancing. A part
     * covered whole is handed out itself, its position reset to 0, rather than sliced: a WRITE's
     * data spans a hundred page-sized descriptors, and a slice of each was most of the request's
     * garbage. Callers may move the views' positions but never their limits.
     */
    ByteBuffer[] views(int max) {
        int want = Math.min(max, remaining());
        int count = 0;
        for (int i = index, off = offsetInPart, left = want; left > 0 && i < parts.length; i++, off = 0) {
            int avail = parts[i].limit() - off;
            if (avail > 0) {
                count++;
                left -= Math.min(avail, left);
            }
        }
        ByteBuffer[] out = new ByteBuffer[count];
        int n = 0;
        for (int i = index, off = offsetInPart; n < count; i++, off = 0) {
            ByteBuffer p = parts[i];
            int avail = p.limit() - off;
            if (avail > 0) {
                int k = Math.min(avail, want);
                out[n++] = off == 0 && k == p.limit() ? p.position(0) : p.slice(off, k).order(ByteOrder.LITTLE_ENDIAN);
                want -= k;
            }
        }
        return out;
    }

    void skip(int n) {
        walk(n, "skip", null, (p, off, k, none) -> { });
    }
}
