package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_interrupt_in} (linux/fuse.h 7.38): 8 bytes. Body of INTERRUPT: the unique id
 * of the request to interrupt.
 */
public record InterruptIn(long unique) {
    public static final int SIZE = 8;
    // 0 unique u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static InterruptIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_interrupt_in");
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

    static InterruptIn readAt(ByteBuffer b, int p) {
        return new InterruptIn(b.getLong(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, unique);
    }
}
