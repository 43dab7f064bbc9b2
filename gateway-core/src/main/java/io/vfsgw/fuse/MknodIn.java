package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_mknod_in} (linux/fuse.h 7.38): 16 bytes. Body head of MKNOD, followed by the
 * NUL-terminated name. Before 7.12 it was 8 bytes: use {@link #decode(ByteBuffer,
 * NegotiatedProtocol)}.
 */
public record MknodIn(int mode, int rdev, int umask) {
    public static final int SIZE = 16;
    // 0 mode u32 | 4 rdev u32 | 8 umask u32 | 12 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static MknodIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_mknod_in");
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

    static MknodIn readAt(ByteBuffer b, int p) {
        return new MknodIn(b.getInt(p),
                b.getInt(p + 4),
                b.getInt(p + 8));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, mode);
        b.putInt(p + 4, rdev);
        b.putInt(p + 8, umask);
        b.putInt(p + 12, 0);
    }

    /** {@code FUSE_COMPAT_MKNOD_IN_SIZE}: kernels before 7.12 send mode and rdev only (no umask). */
    public static final int COMPAT_SIZE = 8;

    /** Decodes the layout the negotiated protocol uses (8 bytes before 7.12); the name follows. */
    public static MknodIn decode(ByteBuffer b, NegotiatedProtocol protocol) throws MalformedRequestException {
        return decode(b, protocol.minor());
    }

    /** Decodes the layout of protocol 7.{@code minor}. */
    public static MknodIn decode(ByteBuffer b, int minor) throws MalformedRequestException {
        if (minor >= 12) {
            return decode(b);
        }
        MalformedRequestException.requireRemaining(b, COMPAT_SIZE, "fuse_mknod_in (compat)");
        int p = b.position();
        b.position(p + COMPAT_SIZE);
        return new MknodIn(b.getInt(p), b.getInt(p + 4), 0);
    }
}
