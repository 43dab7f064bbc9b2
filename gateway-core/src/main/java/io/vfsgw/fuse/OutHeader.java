package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_out_header} (linux/fuse.h 7.38): 16 bytes. Header of every reply and
 * notification; {@code error} is 0, a negative errno, or (unique 0) a notify code.
 */
public record OutHeader(int len, int error, long unique) {
    public static final int SIZE = 16;
    // 0 len u32 | 4 error s32 | 8 unique u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static OutHeader decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_out_header");
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

    static OutHeader readAt(ByteBuffer b, int p) {
        return new OutHeader(b.getInt(p),
                b.getInt(p + 4),
                b.getLong(p + 8));
    }

    /** Writes at index {@code p} (buffer already LITTLE_ENDIAN, {@link #SIZE} bytes of room); moves nothing. */
    public void writeAt(ByteBuffer b, int p) {
        b.putInt(p, len);
        b.putInt(p + 4, error);
        b.putLong(p + 8, unique);
    }
}
