package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_ioctl_out} (linux/fuse.h 7.38): 16 bytes. Reply head of IOCTL.
 */
public record IoctlOut(int result, int flags, int inIovs, int outIovs) {
    public static final int SIZE = 16;
    // 0 result s32 | 4 flags u32 | 8 in_iovs u32 | 12 out_iovs u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static IoctlOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_ioctl_out");
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

    static IoctlOut readAt(ByteBuffer b, int p) {
        return new IoctlOut(b.getInt(p),
                b.getInt(p + 4),
                b.getInt(p + 8),
                b.getInt(p + 12));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, result);
        b.putInt(p + 4, flags);
        b.putInt(p + 8, inIovs);
        b.putInt(p + 12, outIovs);
    }
}
