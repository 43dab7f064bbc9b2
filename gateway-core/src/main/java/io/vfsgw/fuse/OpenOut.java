package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_open_out} (linux/fuse.h 7.38): 16 bytes. Reply to OPEN and OPENDIR (and the
 * second half of a CREATE reply); {@code openFlags} are {@link OpenOutFlags}.
 */
public record OpenOut(long fh, int openFlags) {
    public static final int SIZE = 16;
    // 0 fh u64 | 8 open_flags u32 | 12 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static OpenOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_open_out");
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

    static OpenOut readAt(ByteBuffer b, int p) {
        return new OpenOut(b.getLong(p),
                b.getInt(p + 8));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putInt(p + 8, openFlags);
        b.putInt(p + 12, 0);
    }
}
