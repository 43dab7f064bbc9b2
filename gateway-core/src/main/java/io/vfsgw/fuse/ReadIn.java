package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_read_in} (linux/fuse.h 7.38): 40 bytes. Body of READ and READDIR(PLUS);
 * {@code size} is the most bytes the kernel accepts. Before 7.9 the struct was 24 bytes: use
 * {@link #decode(ByteBuffer, NegotiatedProtocol)}.
 */
public record ReadIn(long fh, long offset, int size, int readFlags, long lockOwner, int flags) {
    public static final int SIZE = 40;
    // 0 fh u64 | 8 offset u64 | 16 size u32 | 20 read_flags u32 | 24 lock_owner u64 | 32 flags u32
    // 36 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static ReadIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_read_in");
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

    static ReadIn readAt(ByteBuffer b, int p) {
        return new ReadIn(b.getLong(p),
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
        b.putInt(p + 20, readFlags);
        b.putLong(p + 24, lockOwner);
        b.putInt(p + 32, flags);
        b.putInt(p + 36, 0);
    }

    /** {@code fuse_read_in} of kernels before 7.9: fh, offset, size, padding. */
    public static final int COMPAT_SIZE = 24;

    /** Decodes the layout the negotiated protocol uses (24 bytes before 7.9). */
    public static ReadIn decode(ByteBuffer b, NegotiatedProtocol protocol) throws MalformedRequestException {
        return decode(b, protocol.minor());
    }

    /** Decodes the layout of protocol 7.{@code minor}: before 7.9 only fh, offset and size exist. */
    public static ReadIn decode(ByteBuffer b, int minor) throws MalformedRequestException {
        if (minor >= 9) {
            return decode(b);
        }
        MalformedRequestException.requireRemaining(b, COMPAT_SIZE, "fuse_read_in (compat)");
        int p = b.position();
        b.position(p + COMPAT_SIZE);
        return new ReadIn(b.getLong(p), b.getLong(p + 8), b.getInt(p + 16), 0, 0L, 0);
    }
}
