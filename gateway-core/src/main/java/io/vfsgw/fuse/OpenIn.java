package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_open_in} (linux/fuse.h 7.38): 8 bytes. Body of OPEN and OPENDIR: open(2)
 * flags and {@link RequestFlags#FUSE_OPEN_KILL_SUIDGID}.
 */
public record OpenIn(int flags, int openFlags) {
    public static final int SIZE = 8;
    // 0 flags u32 | 4 open_flags u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static OpenIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_open_in");
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

    static OpenIn readAt(ByteBuffer b, int p) {
        return new OpenIn(b.getInt(p),
                b.getInt(p + 4));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, flags);
        b.putInt(p + 4, openFlags);
    }
}
