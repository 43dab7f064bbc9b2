package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_flush_in} (linux/fuse.h 7.38): 24 bytes. Body of FLUSH (every close(2) of a
 * file descriptor).
 */
public record FlushIn(long fh, long lockOwner) {
    public static final int SIZE = 24;
    // 0 fh u64 | 8 unused pad | 12 padding pad | 16 lock_owner u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static FlushIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_flush_in");
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

    static FlushIn readAt(ByteBuffer b, int p) {
        return new FlushIn(b.getLong(p),
                b.getLong(p + 16));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putInt(p + 8, 0);
        b.putInt(p + 12, 0);
        b.putLong(p + 16, lockOwner);
    }
}
