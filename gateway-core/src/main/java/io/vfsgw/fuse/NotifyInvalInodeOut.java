package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_notify_inval_inode_out} (linux/fuse.h 7.38): 24 bytes. Body of
 * FUSE_NOTIFY_INVAL_INODE: drop cached attributes and the data range [off, off+len) ({@code len}
 * &lt;= 0: to the end; {@code off} -1: attributes only).
 */
public record NotifyInvalInodeOut(long ino, long off, long len) {
    public static final int SIZE = 24;
    // 0 ino u64 | 8 off s64 | 16 len s64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static NotifyInvalInodeOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_notify_inval_inode_out");
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

    static NotifyInvalInodeOut readAt(ByteBuffer b, int p) {
        return new NotifyInvalInodeOut(b.getLong(p),
                b.getLong(p + 8),
                b.getLong(p + 16));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, ino);
        b.putLong(p + 8, off);
        b.putLong(p + 16, len);
    }
}
