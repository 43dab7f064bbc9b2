package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_forget_in} (linux/fuse.h 7.38): 8 bytes. Body of FORGET (no reply): drop
 * {@code nlookup} lookups of the header's nodeid.
 */
public record ForgetIn(long nlookup) {
    public static final int SIZE = 8;
    // 0 nlookup u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static ForgetIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_forget_in");
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

    static ForgetIn readAt(ByteBuffer b, int p) {
        return new ForgetIn(b.getLong(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, nlookup);
    }
}
