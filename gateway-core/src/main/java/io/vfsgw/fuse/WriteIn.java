package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_write_in} (linux/fuse.h 7.38): 40 bytes. Body head of WRITE; {@code size}
 * bytes of data follow the struct. The data starts right after the struct, which is 24 bytes
 * before 7.9: use {@link #decode(ByteBuffer, NegotiatedProtocol)}.
 */
public record WriteIn(long fh, long offset, int size, int writeFlags, long lockOwner, int flags) {
    public static final int SIZE = 40;
    // 0 fh u64 | 8 offset u64 | 16 size u32 | 20 write_flags u32 | 24 lock_owner u64 | 32 flags u32
    // 36 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static WriteIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_write_in");
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

    static WriteIn readAt(ByteBuffer b, int p) {
        return new WriteIn(b.getLong(p),
                b.getLong(p + 8),
                b.getInt(p + 16),
                b.getInt(p + 20),
                b.getLong(p + 24),
                b.getInt(p + 32));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, fh);
        b.putLong(p + 8, offset);
        b.putInt(p + 16, size);
        b.putInt(p + 20, writeFlags);
        b.putLong(p + 24, lockOwner);
        b.putInt(p + 32, flags);
        b.putInt(p + 36, 0);
    }

    /** {@code FUSE_COMPAT_WRITE_IN_SIZE}: kernels before 7.9 send fh, offset, size, write_flags only. */
    public static final int COMPAT_SIZE = 24;

    /** Decodes the layout the negotiated protocol uses (24 bytes before 7.9); the data follows. */
    public static WriteIn decode(ByteBuffer b, NegotiatedProtocol protocol) throws MalformedRequestException {
        return decode(b, protocol.minor());
    }

    /** Decodes the layout of protocol 7.{@code minor}. */
    public static WriteIn decode(ByteBuffer b, int minor) throws MalformedRequestException {
        if (minor >= 9) {
            return decode(b);
        }
        MalformedRequestException.requireRemaining(b, COMPAT_SIZE, "fuse_write_in (compat)");
        int p = b.position();
        b.position(p + COMPAT_SIZE);
        return new WriteIn(b.getLong(p), b.getLong(p + 8), b.getInt(p + 16), b.getInt(p + 20), 0L, 0);
    }
}
