package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_copy_file_range_in} (linux/fuse.h 7.38): 56 bytes. Body of COPY_FILE_RANGE
 * (header nodeid = source node); the reply is a {@link WriteOut}.
 */
public record CopyFileRangeIn(
        long fhIn,
        long offIn,
        long nodeidOut,
        long fhOut,
        long offOut,
        long len,
        long flags) {
    public static final int SIZE = 56;
    // 0 fh_in u64 | 8 off_in u64 | 16 nodeid_out u64 | 24 fh_out u64 | 32 off_out u64 | 40 len u64
    // 48 flags u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static CopyFileRangeIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_copy_file_range_in");
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

    static CopyFileRangeIn readAt(ByteBuffer b, int p) {
        return new CopyFileRangeIn(b.getLong(p),
                b.getLong(p + 8),
                b.getLong(p + 16),
                b.getLong(p + 24),
                b.getLong(p + 32),
                b.getLong(p + 40),
                b.getLong(p + 48));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fhIn);
        b.putLong(p + 8, offIn);
        b.putLong(p + 16, nodeidOut);
        b.putLong(p + 24, fhOut);
        b.putLong(p + 32, offOut);
        b.putLong(p + 40, len);
        b.putLong(p + 48, flags);
    }
}
