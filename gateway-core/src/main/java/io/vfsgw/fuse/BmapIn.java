package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_bmap_in} (linux/fuse.h 7.38): 16 bytes. Body of BMAP.
 */
public record BmapIn(long block, int blocksize) {
    public static final int SIZE = 16;
    // 0 block u64 | 8 blocksize u32 | 12 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static BmapIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_bmap_in");
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

    static BmapIn readAt(ByteBuffer b, int p) {
        return new BmapIn(b.getLong(p),
                b.getInt(p + 8));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, block);
        b.putInt(p + 8, blocksize);
        b.putInt(p + 12, 0);
    }
}
