package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_notify_delete_out} (linux/fuse.h 7.38): 24 bytes. Body head of
 * FUSE_NOTIFY_DELETE, followed by the name and a NUL.
 */
public record NotifyDeleteOut(long parent, long child, int namelen) {
    public static final int SIZE = 24;
    // 0 parent u64 | 8 child u64 | 16 namelen u32 | 20 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static NotifyDeleteOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_notify_delete_out");
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

    static NotifyDeleteOut readAt(ByteBuffer b, int p) {
        return new NotifyDeleteOut(b.getLong(p),
                b.getLong(p + 8),
                b.getInt(p + 16));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, parent);
        b.putLong(p + 8, child);
        b.putInt(p + 16, namelen);
        b.putInt(p + 20, 0);
    }
}
