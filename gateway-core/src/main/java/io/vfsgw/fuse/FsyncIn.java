package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_fsync_in} (linux/fuse.h 7.38): 16 bytes. Body of FSYNC and FSYNCDIR; {@code
 * fsyncFlags} may hold {@link RequestFlags#FUSE_FSYNC_FDATASYNC}.
 */
public record FsyncIn(long fh, int fsyncFlags) {
    public static final int SIZE = 16;
    // 0 fh u64 | 8 fsync_flags u32 | 12 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static FsyncIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_fsync_in");
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

    static FsyncIn readAt(ByteBuffer b, int p) {
        return new FsyncIn(b.getLong(p),
                b.getInt(p + 8));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putInt(p + 8, fsyncFlags);
        b.putInt(p + 12, 0);
    }
}
