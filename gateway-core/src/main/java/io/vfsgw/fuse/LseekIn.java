package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_lseek_in} (linux/fuse.h 7.38): 24 bytes. Body of LSEEK ({@code whence}:
 * SEEK_SET 0, SEEK_CUR 1, SEEK_END 2, SEEK_DATA 3, SEEK_HOLE 4).
 */
public record LseekIn(long fh, long offset, int whence) {
    public static final int SIZE = 24;
    // 0 fh u64 | 8 offset u64 | 16 whence u32 | 20 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static LseekIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_lseek_in");
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

    static LseekIn readAt(ByteBuffer b, int p) {
        return new LseekIn(b.getLong(p),
                b.getLong(p + 8),
                b.getInt(p + 16));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putLong(p + 8, offset);
        b.putInt(p + 16, whence);
        b.putInt(p + 20, 0);
    }
}
