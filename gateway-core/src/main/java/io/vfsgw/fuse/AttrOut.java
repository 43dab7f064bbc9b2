package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_attr_out} (linux/fuse.h 7.38): 104 bytes. Reply to GETATTR and SETATTR.
 * Kernels before 7.9 expect only the first 96 bytes: use {@link #encodeTo(ByteBuffer, int)}.
 */
public record AttrOut(long attrValid, int attrValidNsec, FuseAttr attr) {
    public static final int SIZE = 104;
    // 0 attr_valid u64 | 8 attr_valid_nsec u32 | 12 dummy pad | 16 attr struct fuse_attr

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static AttrOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_attr_out");
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

    static AttrOut readAt(ByteBuffer b, int p) {
        return new AttrOut(b.getLong(p),
                b.getInt(p + 8),
                FuseAttr.readAt(b, p + 16));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, attrValid);
        b.putInt(p + 8, attrValidNsec);
        b.putInt(p + 12, 0);
        attr.writeAt(b, p + 16);
    }

    /** {@code FUSE_COMPAT_ATTR_OUT_SIZE}: what kernels before 7.9 expect. */
    public static final int COMPAT_SIZE = 96;

    /** Bytes of this reply a kernel speaking 7.{@code minor} expects. */
    public static int replySize(int minor) {
        return minor < 9 ? COMPAT_SIZE : SIZE;
    }

    /**
     * Writes the reply for protocol 7.{@code minor} and advances by {@link #replySize(int)}. Needs
     * {@link #SIZE} bytes of room: the compat layout is a prefix, and the tail is written then left
     * outside the reply.
     */
    public void encodeTo(ByteBuffer b, int minor) {
        int p = b.position();
        writeAt(b, p);
        b.position(p + replySize(minor));
    }
}
