package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_notify_retrieve_out} (linux/fuse.h 7.38): 32 bytes. Body of
 * FUSE_NOTIFY_RETRIEVE: ask the kernel to send back cached data in a NOTIFY_REPLY request.
 */
public record NotifyRetrieveOut(long notifyUnique, long nodeid, long offset, int size) {
    public static final int SIZE = 32;
    // 0 notify_unique u64 | 8 nodeid u64 | 16 offset u64 | 24 size u32 | 28 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static NotifyRetrieveOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_notify_retrieve_out");
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

    static NotifyRetrieveOut readAt(ByteBuffer b, int p) {
        return new NotifyRetrieveOut(b.getLong(p),
                b.getLong(p + 8),
                b.getLong(p + 16),
                b.getInt(p + 24));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, notifyUnique);
        b.putLong(p + 8, nodeid);
        b.putLong(p + 16, offset);
        b.putInt(p + 24, size);
        b.putInt(p + 28, 0);
    }
}
