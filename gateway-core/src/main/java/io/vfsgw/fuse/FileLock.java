package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_file_lock} (linux/fuse.h 7.38): 24 bytes. A POSIX lock range inside {@link
 * LkIn} and {@link LkOut}; {@code end} is inclusive, {@code type} is F_RDLCK/F_WRLCK/F_UNLCK.
 */
public record FileLock(long start, long end, int type, int pid) {
    public static final int SIZE = 24;
    // 0 start u64 | 8 end u64 | 16 type u32 | 20 pid u32

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static FileLock decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_file_lock");
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

    static FileLock readAt(ByteBuffer b, int p) {
        return new FileLock(b.getLong(p),
                b.getLong(p + 8),
                b.getInt(p + 16),
                b.getInt(p + 20));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, start);
        b.putLong(p + 8, end);
        b.putInt(p + 16, type);
        b.putInt(p + 20, pid);
    }
}
