package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_lk_in} (linux/fuse.h 7.38): 48 bytes. Body of GETLK, SETLK and SETLKW; {@code
 * lkFlags} may hold {@link RequestFlags#FUSE_LK_FLOCK}.
 */
public record LkIn(long fh, long owner, FileLock lk, int lkFlags) {
    public static final int SIZE = 48;
    // 0 fh u64 | 8 owner u64 | 16 lk struct fuse_file_lock | 40 lk_flags u32 | 44 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static LkIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_lk_in");
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

    static LkIn readAt(ByteBuffer b, int p) {
        return new LkIn(b.getLong(p),
                b.getLong(p + 8),
                FileLock.readAt(b, p + 16),
                b.getInt(p + 40));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putLong(p + 8, owner);
        lk.writeAt(b, p + 16);
        b.putInt(p + 40, lkFlags);
        b.putInt(p + 44, 0);
    }
}
