package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_access_in} (linux/fuse.h 7.38): 8 bytes. Body of ACCESS: an access(2) mask
 * (R_OK 4, W_OK 2, X_OK 1, F_OK 0).
 */
public record AccessIn(int mask) {
    public static final int SIZE = 8;
    // 0 mask u32 | 4 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static AccessIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_access_in");
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

    static AccessIn readAt(ByteBuffer b, int p) {
        return new AccessIn(b.getInt(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, mask);
        b.putInt(p + 4, 0);
    }
}
