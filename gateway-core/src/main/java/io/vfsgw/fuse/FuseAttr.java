package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_attr} (linux/fuse.h 7.38): 88 bytes. File attributes inside {@link EntryOut},
 * {@link AttrOut} and {@link Direntplus}; times are seconds plus nanoseconds. {@code flags} holds
 * FUSE_ATTR_SUBMOUNT / FUSE_ATTR_DAX ({@link RequestFlags}).
 */
public record FuseAttr(
        long ino,
        long size,
        long blocks,
        long atime,
        long mtime,
        long ctime,
        int atimensec,
        int mtimensec,
        int ctimensec,
        int mode,
        int nlink,
        int uid,
        int gid,
        int rdev,
        int blksize,
        int flags) {
    public static final int SIZE = 88;
    // 0 ino u64 | 8 size u64 | 16 blocks u64 | 24 atime u64 | 32 mtime u64 | 40 ctime u64
    // 48 atimensec u32 | 52 mtimensec u32 | 56 ctimensec u32 | 60 mode u32 | 64 nlink u32 | 68 uid u32
    // 72 gid u32 | 76 rdev u32 | 80 blksize u32 | 84 flags u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static FuseAttr decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_attr");
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

    static FuseAttr readAt(ByteBuffer b, int p) {
        return new FuseAttr(b.getLong(p),
                b.getLong(p + 8),
                b.getLong(p + 16),
                b.getLong(p + 24),
                b.getLong(p + 32),
                b.getLong(p + 40),
                b.getInt(p + 48),
                b.getInt(p + 52),
                b.getInt(p + 56),
                b.getInt(p + 60),
                b.getInt(p + 64),
                b.getInt(p + 68),
                b.getInt(p + 72),
                b.getInt(p + 76),
                b.getInt(p + 80),
                b.getInt(p + 84));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, ino);
        b.putLong(p + 8, size);
        b.putLong(p + 16, blocks);
        b.putLong(p + 24, atime);
        b.putLong(p + 32, mtime);
        b.putLong(p + 40, ctime);
        b.putInt(p + 48, atimensec);
        b.putInt(p + 52, mtimensec);
        b.putInt(p + 56, ctimensec);
        b.putInt(p + 60, mode);
        b.putInt(p + 64, nlink);
        b.putInt(p + 68, uid);
        b.putInt(p + 72, gid);
        b.putInt(p + 76, rdev);
        b.putInt(p + 80, blksize);
        b.putInt(p + 84, flags);
    }

    /**
     * The wire form of a backend's attributes. Nanosecond times are split with floor semantics, so
     * times before 1970 keep 0 &lt;= nsec &lt; 1e9 as the kernel requires.
     */
    public static FuseAttr of(io.vfsgw.spi.Attr a, int flags) {
        return new FuseAttr(a.ino(), a.size(), a.blocks(),
                Math.floorDiv(a.atimeNs(), NANOS), Math.floorDiv(a.mtimeNs(), NANOS), Math.floorDiv(a.ctimeNs(), NANOS),
                (int) Math.floorMod(a.atimeNs(), NANOS), (int) Math.floorMod(a.mtimeNs(), NANOS),
                (int) Math.floorMod(a.ctimeNs(), NANOS),
                a.mode(), a.nlink(), a.uid(), a.gid(), a.rdev(), a.blksize(), flags);
    }

    private static final long NANOS = 1_000_000_000L;
}
