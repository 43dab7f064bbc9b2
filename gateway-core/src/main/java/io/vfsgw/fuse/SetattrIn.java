package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_setattr_in} (linux/fuse.h 7.38): 88 bytes. Body of SETATTR; only the fields
 * whose {@link SetattrValid} bit is in {@code valid} are meaningful.
 */
public record SetattrIn(
        int valid,
        long fh,
        long size,
        long lockOwner,
        long atime,
        long mtime,
        long ctime,
        int atimensec,
        int mtimensec,
        int ctimensec,
        int mode,
        int uid,
        int gid) {
    public static final int SIZE = 88;
    // 0 valid u32 | 4 padding pad | 8 fh u64 | 16 size u64 | 24 lock_owner u64 | 32 atime u64
    // 40 mtime u64 | 48 ctime u64 | 56 atimensec u32 | 60 mtimensec u32 | 64 ctimensec u32 | 68 mode u32
    // 72 unused4 pad | 76 uid u32 | 80 gid u32 | 84 unused5 pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static SetattrIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_setattr_in");
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

    static SetattrIn readAt(ByteBuffer b, int p) {
        return new SetattrIn(b.getInt(p),
                b.getLong(p + 8),
                b.getLong(p + 16),
                b.getLong(p + 24),
                b.getLong(p + 32),
                b.getLong(p + 40),
                b.getLong(p + 48),
                b.getInt(p + 56),
                b.getInt(p + 60),
                b.getInt(p + 64),
                b.getInt(p + 68),
                b.getInt(p + 76),
                b.getInt(p + 80));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, valid);
        b.putInt(p + 4, 0);
        b.putLong(p + 8, fh);
        b.putLong(p + 16, size);
        b.putLong(p + 24, lockOwner);
        b.putLong(p + 32, atime);
        b.putLong(p + 40, mtime);
        b.putLong(p + 48, ctime);
        b.putInt(p + 56, atimensec);
        b.putInt(p + 60, mtimensec);
        b.putInt(p + 64, ctimensec);
        b.putInt(p + 68, mode);
        b.putInt(p + 72, 0);
        b.putInt(p + 76, uid);
        b.putInt(p + 80, gid);
        b.putInt(p + 84, 0);
    }
}
