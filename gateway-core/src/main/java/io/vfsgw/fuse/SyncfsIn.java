package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_syncfs_in} (linux/fuse.h 7.38): 8 bytes. Body of SYNCFS (only padding).
 */
public record SyncfsIn() {
    public static final int SIZE = 8;
    // 0 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static SyncfsIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_syncfs_in");
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

    static SyncfsIn readAt(ByteBuffer b, int p) {
        return new SyncfsIn();
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, 0L);
    }
}
