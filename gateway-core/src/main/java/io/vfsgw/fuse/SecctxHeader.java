package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_secctx_header} (linux/fuse.h 7.38): 8 bytes. Security-context extension
 * header (only sent when FUSE_SECURITY_CTX is negotiated, which vfsgw never does).
 */
public record SecctxHeader(int size, int nrSecctx) {
    public static final int SIZE = 8;
    // 0 size u32 | 4 nr_secctx u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static SecctxHeader decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_secctx_header");
        int p = b.position();
        b.position(p + SIZE);
        return readAt(b, p);
    }

    /** Writes at the buffer's position (buffer already LITTLE_ENDIAN, {@link #SIZE} bytes of room) and advances. */
    public void encodeTo(ByteBuffer b) {
        int p = b.position();
        writeAt(b, p);
        b.position(p + SIZE);
    }

    static SecctxHeader readAt(ByteBuffer b, int p) {
        return new SecctxHeader(b.getInt(p),
                b.getInt(p + 4));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, size);
        b.putInt(p + 4, nrSecctx);
    }
}
