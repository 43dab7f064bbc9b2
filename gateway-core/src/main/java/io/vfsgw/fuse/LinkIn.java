package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_link_in} (linux/fuse.h 7.38): 8 bytes. Body head of LINK (header nodeid = new
 * parent), followed by the new NUL-terminated name.
 */
public record LinkIn(long oldnodeid) {
    public static final int SIZE = 8;
    // 0 oldnodeid u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static LinkIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_link_in");
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

    static LinkIn readAt(ByteBuffer b, int p) {
        return new LinkIn(b.getLong(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, oldnodeid);
    }
}
