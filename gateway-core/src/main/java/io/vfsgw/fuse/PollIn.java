package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_poll_in} (linux/fuse.h 7.38): 24 bytes. Body of POLL.
 */
public record PollIn(long fh, long kh, int flags, int events) {
    public static final int SIZE = 24;
    // 0 fh u64 | 8 kh u64 | 16 flags u32 | 20 events u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static PollIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_poll_in");
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

    static PollIn readAt(ByteBuffer b, int p) {
        return new PollIn(b.getLong(p),
                b.getLong(p + 8),
                b.getInt(p + 16),
                b.getInt(p + 20));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putLong(p + 8, kh);
        b.putInt(p + 16, flags);
        b.putInt(p + 20, events);
    }
}
