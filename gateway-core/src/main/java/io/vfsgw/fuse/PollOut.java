package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_poll_out} (linux/fuse.h 7.38): 8 bytes. Reply to POLL.
 */
public record PollOut(int revents) {
    public static final int SIZE = 8;
    // 0 revents u32 | 4 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static PollOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_poll_out");
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

    static PollOut readAt(ByteBuffer b, int p) {
        return new PollOut(b.getInt(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, revents);
        b.putInt(p + 4, 0);
    }
}
