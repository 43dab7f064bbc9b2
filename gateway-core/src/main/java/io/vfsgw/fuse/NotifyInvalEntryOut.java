package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_notify_inval_entry_out} (linux/fuse.h 7.38): 16 bytes. Body head of
 * FUSE_NOTIFY_INVAL_ENTRY, followed by the name and a NUL; {@code flags} may hold {@link
 * RequestFlags#FUSE_EXPIRE_ONLY}.
 */
public record NotifyInvalEntryOut(long parent, int namelen, int flags) {
    public static final int SIZE = 16;
    // 0 parent u64 | 8 namelen u32 | 12 flags u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static NotifyInvalEntryOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_notify_inval_entry_out");
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

    static NotifyInvalEntryOut readAt(ByteBuffer b, int p) {
        return new NotifyInvalEntryOut(b.getLong(p),
                b.getInt(p + 8),
                b.getInt(p + 12));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, parent);
        b.putInt(p + 8, namelen);
        b.putInt(p + 12, flags);
    }
}
