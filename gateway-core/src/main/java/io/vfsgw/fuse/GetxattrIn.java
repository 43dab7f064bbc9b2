package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_getxattr_in} (linux/fuse.h 7.38): 8 bytes. Body head of GETXATTR (followed by
 * the name) and body of LISTXATTR; {@code size} 0 asks for the needed size.
 */
public record GetxattrIn(int size) {
    public static final int SIZE = 8;
    // 0 size u32 | 4 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static GetxattrIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_getxattr_in");
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

    static GetxattrIn readAt(ByteBuffer b, int p) {
        return new GetxattrIn(b.getInt(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, size);
        b.putInt(p + 4, 0);
    }
}
