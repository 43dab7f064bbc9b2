package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_rename_in} (linux/fuse.h 7.38): 8 bytes. Body head of RENAME, followed by the
 * old and the new NUL-terminated names.
 */
public record RenameIn(long newdir) {
    public static final int SIZE = 8;
    // 0 newdir u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static RenameIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_rename_in");
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

    static RenameIn readAt(ByteBuffer b, int p) {
        return new RenameIn(b.getLong(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, newdir);
    }
}
