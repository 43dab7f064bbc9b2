package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_batch_forget_in} (linux/fuse.h 7.38): 8 bytes. Body head of BATCH_FORGET (no
 * reply): {@code count} {@link ForgetOne} follow.
 */
public record BatchForgetIn(int count) {
    public static final int SIZE = 8;
    // 0 count u32 | 4 dummy pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static BatchForgetIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_batch_forget_in");
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

    static BatchForgetIn readAt(ByteBuffer b, int p) {
        return new BatchForgetIn(b.getInt(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, count);
        b.putInt(p + 4, 0);
    }
}
