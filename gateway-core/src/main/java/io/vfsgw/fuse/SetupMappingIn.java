package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_setupmapping_in} (linux/fuse.h 7.38): 40 bytes. Body of SETUPMAPPING (DAX):
 * map [foffset, foffset+len) of open file {@code fh} at {@code moffset} in the DAX window; {@code
 * flags} are FUSE_SETUPMAPPING_FLAG_*. The reply has no body.
 */
public record SetupMappingIn(long fh, long foffset, long len, long flags, long moffset) {
    public static final int SIZE = 40;
    // 0 fh u64 | 8 foffset u64 | 16 len u64 | 24 flags u64 | 32 moffset u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static SetupMappingIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_setupmapping_in");
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

    static SetupMappingIn readAt(ByteBuffer b, int p) {
        return new SetupMappingIn(b.getLong(p),
                b.getLong(p + 8),
                b.getLong(p + 16),
                b.getLong(p + 24),
                b.getLong(p + 32));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putLong(p + 8, foffset);
        b.putLong(p + 16, len);
        b.putLong(p + 24, flags);
        b.putLong(p + 32, moffset);
    }
}
