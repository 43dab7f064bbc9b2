package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_lseek_out} (linux/fuse.h 7.38): 8 bytes. Reply to LSEEK.
 */
public record LseekOut(long offset) {
    public static final int SIZE = 8;
    // 0 offset u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static LseekOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_lseek_out");
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

    static LseekOut readAt(ByteBuffer b, int p) {
        return new LseekOut(b.getLong(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, offset);
    }
}
