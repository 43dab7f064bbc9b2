package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_getattr_in} (linux/fuse.h 7.38): 16 bytes. Body of GETATTR; {@code fh} is
 * valid only with {@link RequestFlags#FUSE_GETATTR_FH}.
 */
public record GetattrIn(int getattrFlags, long fh) {
    public static final int SIZE = 16;
    // 0 getattr_flags u32 | 4 dummy pad | 8 fh u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static GetattrIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_getattr_in");
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

    static GetattrIn readAt(ByteBuffer b, int p) {
        return new GetattrIn(b.getInt(p),
                b.getLong(p + 8));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, getattrFlags);
        b.putInt(p + 4, 0);
        b.putLong(p + 8, fh);
    }

    /** Decodes the negotiated layout: before 7.9 GETATTR has no body at all (nothing is consumed). */
    public static GetattrIn decode(ByteBuffer b, NegotiatedProtocol protocol) throws MalformedRequestException {
        return decode(b, protocol.minor());
    }

    /** Decodes the layout of protocol 7.{@code minor}. */
    public static GetattrIn decode(ByteBuffer b, int minor) throws MalformedRequestException {
        return minor >= 9 ? decode(b) : new GetattrIn(0, 0L);
    }
}
