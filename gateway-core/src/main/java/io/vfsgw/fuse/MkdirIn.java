package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_mkdir_in} (linux/fuse.h 7.38): 8 bytes. Body head of MKDIR, followed by the
 * NUL-terminated name.
 */
public record MkdirIn(int mode, int umask) {
    public static final int SIZE = 8;
    // 0 mode u32 | 4 umask u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static MkdirIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_mkdir_in");
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

    static MkdirIn readAt(ByteBuffer b, int p) {
        return new MkdirIn(b.getInt(p),
                b.getInt(p + 4));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, mode);
        b.putInt(p + 4, umask);
    }
}
