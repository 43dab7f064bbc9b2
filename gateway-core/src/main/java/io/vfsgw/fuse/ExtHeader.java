package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_ext_header} (linux/fuse.h 7.38): 8 bytes. Header of one request extension (at
 * the end of a request, {@code InHeader.totalExtlen} * 8 bytes); {@code size} includes this
 * header.
 */
public record ExtHeader(int size, int type) {
    public static final int SIZE = 8;
    // 0 size u32 | 4 type u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static ExtHeader decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_ext_header");
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

    static ExtHeader readAt(ByteBuffer b, int p) {
        return new ExtHeader(b.getInt(p),
                b.getInt(p + 4));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, size);
        b.putInt(p + 4, type);
    }
}
