package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_setxattr_in} (linux/fuse.h 7.38): 16 bytes. Body head of SETXATTR, followed
 * by the NUL-terminated name and {@code size} value bytes. The kernel sends 16 bytes only when
 * FUSE_SETXATTR_EXT was negotiated, else 8: use {@link #decode(ByteBuffer, NegotiatedProtocol)};
 * plain {@link #decode(ByteBuffer)} always reads 16.
 */
public record SetxattrIn(int size, int flags, int setxattrFlags) {
    public static final int SIZE = 16;
    // 0 size u32 | 4 flags u32 | 8 setxattr_flags u32 | 12 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static SetxattrIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_setxattr_in");
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

    static SetxattrIn readAt(ByteBuffer b, int p) {
        return new SetxattrIn(b.getInt(p),
                b.getInt(p + 4),
                b.getInt(p + 8));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, size);
        b.putInt(p + 4, flags);
        b.putInt(p + 8, setxattrFlags);
        b.putInt(p + 12, 0);
    }

    /** {@code FUSE_COMPAT_SETXATTR_IN_SIZE}: size and flags only, unless FUSE_SETXATTR_EXT was negotiated. */
    public static final int COMPAT_SIZE = 8;

    /** Decodes the layout the negotiated protocol uses: 16 bytes only with FUSE_SETXATTR_EXT. */
    public static SetxattrIn decode(ByteBuffer b, NegotiatedProtocol protocol) throws MalformedRequestException {
        return decode(b, protocol.setxattrExt());
    }

    /** Decodes 16 bytes when {@code setxattrExt} (FUSE_SETXATTR_EXT negotiated), else the 8-byte layout. */
    public static SetxattrIn decode(ByteBuffer b, boolean setxattrExt) throws MalformedRequestException {
        if (setxattrExt) {
            return decode(b);
        }
        MalformedRequestException.requireRemaining(b, COMPAT_SIZE, "fuse_setxattr_in (compat)");
        int p = b.position();
        b.position(p + COMPAT_SIZE);
        return new SetxattrIn(b.getInt(p), b.getInt(p + 4), 0);
    }
}
