package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_notify_store_out} (linux/fuse.h 7.38): 24 bytes. Body head of
 * FUSE_NOTIFY_STORE, followed by {@code size} data bytes to put into the kernel's page cache.
 */
public record NotifyStoreOut(long nodeid, long offset, int size) {
    public static final int SIZE = 24;
    // 0 nodeid u64 | 8 offset u64 | 16 size u32 | 20 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static NotifyStoreOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_notify_store_out");
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

    static NotifyStoreOut readAt(ByteBuffer b, int p) {
        return new NotifyStoreOut(b.getLong(p),
                b.getLong(p + 8),
                b.getInt(p + 16));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, nodeid);
        b.putLong(p + 8, offset);
        b.putInt(p + 16, size);
        b.putInt(p + 20, 0);
    }
}
