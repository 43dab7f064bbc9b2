package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_removemapping_one} (linux/fuse.h 7.38): 16 bytes. One DAX window range to
 * unmap, after {@link RemoveMappingIn}.
 */
public record RemoveMappingOne(long moffset, long len) {
    public static final int SIZE = 16;
    // 0 moffset u64 | 8 len u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static RemoveMappingOne decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_removemapping_one");
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

    static RemoveMappingOne readAt(ByteBuffer b, int p) {
        return new RemoveMappingOne(b.getLong(p),
                b.getLong(p + 8));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, moffset);
        b.putLong(p + 8, len);
    }
}
