package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_forget_one} (linux/fuse.h 7.38): 16 bytes. One element of a BATCH_FORGET
 * body, after {@link BatchForgetIn}.
 */
public record ForgetOne(long nodeid, long nlookup) {
    public static final int SIZE = 16;
    // 0 nodeid u64 | 8 nlookup u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static ForgetOne decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_forget_one");
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

    static ForgetOne readAt(ByteBuffer b, int p) {
        return new ForgetOne(b.getLong(p),
                b.getLong(p + 8));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, nodeid);
        b.putLong(p + 8, nlookup);
    }
}
