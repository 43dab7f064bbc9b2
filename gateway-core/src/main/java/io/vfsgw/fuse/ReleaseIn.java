package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_release_in} (linux/fuse.h 7.38): 24 bytes. Body of RELEASE and RELEASEDIR.
 */
public record ReleaseIn(long fh, int flags, int releaseFlags, long lockOwner) {
    public static final int SIZE = 24;
    // 0 fh u64 | 8 flags u32 | 12 release_flags u32 | 16 lock_owner u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static ReleaseIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_release_in");
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

    static ReleaseIn readAt(ByteBuffer b, int p) {
        return new ReleaseIn(b.getLong(p),
                b.getInt(p + 8),
                b.getInt(p + 12),
                b.getLong(p + 16));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putInt(p + 8, flags);
        b.putInt(p + 12, releaseFlags);
        b.putLong(p + 16, lockOwner);
    }
}
