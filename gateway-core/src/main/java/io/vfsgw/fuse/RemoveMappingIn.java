package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_removemapping_in} (linux/fuse.h 7.38): 4 bytes. Body head of REMOVEMAPPING
 * (DAX): {@code count} {@link RemoveMappingOne} follow. 4 bytes: the first element starts at
 * offset 4, unaligned.
 */
public record RemoveMappingIn(int count) {
    public static final int SIZE = 4;
    // 0 count u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static RemoveMappingIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_removemapping_in");
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

    static RemoveMappingIn readAt(ByteBuffer b, int p) {
        return new RemoveMappingIn(b.getInt(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, count);
    }
}
