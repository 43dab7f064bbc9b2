package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_ioctl_in} (linux/fuse.h 7.38): 32 bytes. Body head of IOCTL; {@code inSize}
 * bytes of input follow.
 */
public record IoctlIn(long fh, int flags, int cmd, long arg, int inSize, int outSize) {
    public static final int SIZE = 32;
    // 0 fh u64 | 8 flags u32 | 12 cmd u32 | 16 arg u64 | 24 in_size u32 | 28 out_size u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static IoctlIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_ioctl_in");
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

    static IoctlIn readAt(ByteBuffer b, int p) {
        return new IoctlIn(b.getLong(p),
                b.getInt(p + 8),
                b.getInt(p + 12),
                b.getLong(p + 16),
                b.getInt(p + 24),
                b.getInt(p + 28));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putInt(p + 8, flags);
        b.putInt(p + 12, cmd);
        b.putLong(p + 16, arg);
        b.putInt(p + 24, inSize);
        b.putInt(p + 28, outSize);
    }
}
