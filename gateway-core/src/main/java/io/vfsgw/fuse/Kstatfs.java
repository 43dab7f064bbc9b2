package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_kstatfs} (linux/fuse.h 7.38): 80 bytes. Filesystem statistics, the body of
 * {@link StatfsOut}.
 */
public record Kstatfs(
        long blocks,
        long bfree,
        long bavail,
        long files,
        long ffree,
        int bsize,
        int namelen,
        int frsize) {
    public static final int SIZE = 80;
    // 0 blocks u64 | 8 bfree u64 | 16 bavail u64 | 24 files u64 | 32 ffree u64 | 40 bsize u32
    // 44 namelen u32 | 48 frsize u32 | 52 padding pad | 56 spare[0] pad | 60 spare[1] pad | 64 spare[2] pad
    // 68 spare[3] pad | 72 spare[4] pad | 76 spare[5] pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static Kstatfs decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_kstatfs");
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

    static Kstatfs readAt(ByteBuffer b, int p) {
        return new Kstatfs(b.getLong(p),
                b.getLong(p + 8),
                b.getLong(p + 16),
                b.getLong(p + 24),
                b.getLong(p + 32),
                b.getInt(p + 40),
                b.getInt(p + 44),
                b.getInt(p + 48));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, blocks);
        b.putLong(p + 8, bfree);
        b.putLong(p + 16, bavail);
        b.putLong(p + 24, files);
        b.putLong(p + 32, ffree);
        b.putInt(p + 40, bsize);
        b.putInt(p + 44, namelen);
        b.putInt(p + 48, frsize);
        b.putInt(p + 52, 0);
        b.putInt(p + 56, 0);
        b.putInt(p + 60, 0);
        b.putInt(p + 64, 0);
        b.putInt(p + 68, 0);
        b.putInt(p + 72, 0);
        b.putInt(p + 76, 0);
    }

    /** The wire form of a backend's statfs. */
    public static Kstatfs of(io.vfsgw.spi.StatFs s) {
        return new Kstatfs(s.blocks(), s.blocksFree(), s.blocksAvailable(), s.files(), s.filesFree(),
                s.blockSize(), s.nameMax(), s.fragmentSize());
    }
}
