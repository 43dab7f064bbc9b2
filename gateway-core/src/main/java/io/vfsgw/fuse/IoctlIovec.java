package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_ioctl_iovec} (linux/fuse.h 7.38): 16 bytes. One iovec of an unrestricted-
 * ioctl retry reply.
 */
public record IoctlIovec(long base, long len) {
    public static final int SIZE = 16;
    // 0 base u64 | 8 len u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static IoctlIovec decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_ioctl_iovec");
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

    static IoctlIovec readAt(ByteBuffer b, int p) {
        return new IoctlIovec(b.getLong(p),
                b.getLong(p + 8));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, base);
        b.putLong(p + 8, len);
    }
}
