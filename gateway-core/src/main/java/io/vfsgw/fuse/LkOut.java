package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_lk_out} (linux/fuse.h 7.38): 24 bytes. Reply to GETLK: the conflicting lock,
 * or type F_UNLCK.
 */
public record LkOut(FileLock lk) {
    public static final int SIZE = 24;
    // 0 lk struct fuse_file_lock

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static LkOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_lk_out");
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

    static LkOut readAt(ByteBuffer b, int p) {
        return new LkOut(FileLock.readAt(b, p));
    }

    void writeAt(ByteBuffer b, int p) {
        lk.writeAt(b, p);
    }
}
