package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_rename2_in} (linux/fuse.h 7.38): 16 bytes. Body head of RENAME2 ({@code
 * flags}: RENAME_NOREPLACE 1, RENAME_EXCHANGE 2, RENAME_WHITEOUT 4), followed by the old and new
 * names.
 */
public record Rename2In(long newdir, int flags) {
    public static final int SIZE = 16;
    // 0 newdir u64 | 8 flags u32 | 12 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static Rename2In decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_rename2_in");
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

    static Rename2In readAt(ByteBuffer b, int p) {
        return new Rename2In(b.getLong(p),
                b.getInt(p + 8));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, newdir);
        b.putInt(p + 8, flags);
        b.putInt(p + 12, 0);
    }
}
