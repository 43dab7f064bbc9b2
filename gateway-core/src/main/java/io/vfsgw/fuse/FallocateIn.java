package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_fallocate_in} (linux/fuse.h 7.38): 32 bytes. Body of FALLOCATE; {@code mode}
 * holds fallocate(2) FALLOC_FL_* bits.
 */
public record FallocateIn(long fh, long offset, long length, int mode) {
    public static final int SIZE = 32;
    // 0 fh u64 | 8 offset u64 | 16 length u64 | 24 mode u32 | 28 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static FallocateIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_fallocate_in");
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

    static FallocateIn readAt(ByteBuffer b, int p) {
        return new FallocateIn(b.getLong(p),
                b.getLong(p + 8),
                b.getLong(p + 16),
                b.getInt(p + 24));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putLong(p + 8, offset);
        b.putLong(p + 16, length);
        b.putInt(p + 24, mode);
        b.putInt(p + 28, 0);
    }
}
