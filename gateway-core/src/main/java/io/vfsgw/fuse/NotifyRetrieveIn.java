package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_notify_retrieve_in} (linux/fuse.h 7.38): 40 bytes. Body head of the
 * NOTIFY_REPLY request answering a retrieve; {@code size} data bytes follow (the header's unique
 * is the notify_unique).
 */
public record NotifyRetrieveIn(long offset, int size) {
    public static final int SIZE = 40;
    // 0 dummy1 pad | 8 offset u64 | 16 size u32 | 20 dummy2 pad | 24 dummy3 pad | 32 dummy4 pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static NotifyRetrieveIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_notify_retrieve_in");
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

    static NotifyRetrieveIn readAt(ByteBuffer b, int p) {
        return new NotifyRetrieveIn(b.getLong(p + 8),
                b.getInt(p + 16));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, 0L);
        b.putLong(p + 8, offset);
        b.putInt(p + 16, size);
        b.putInt(p + 20, 0);
        b.putLong(p + 24, 0L);
        b.putLong(p + 32, 0L);
    }
}
