package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_bmap_out} (linux/fuse.h 7.38): 8 bytes. Reply to BMAP.
 */
public record BmapOut(long block) {
    public static final int SIZE = 8;
    // 0 block u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static BmapOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_bmap_out");
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

    static BmapOut readAt(ByteBuffer b, int p) {
        return new BmapOut(b.getLong(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, block);
    }
}
