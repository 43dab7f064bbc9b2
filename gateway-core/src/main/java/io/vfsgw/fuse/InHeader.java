package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_in_header} (linux/fuse.h 7.38): 40 bytes. Header of every request; {@code
 * totalExtlen} counts 8-byte units of extensions at the end of the request.
 */
public record InHeader(
        int len,
        int opcode,
        long unique,
        long nodeid,
        int uid,
        int gid,
        int pid,
        int totalExtlen) {
    public static final int SIZE = 40;
    // 0 len u32 | 4 opcode u32 | 8 unique u64 | 16 nodeid u64 | 24 uid u32 | 28 gid u32 | 32 pid u32
    // 36 total_extlen u16 | 38 padding pad

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static InHeader decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_in_header");
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

    static InHeader readAt(ByteBuffer b, int p) {
        return new InHeader(b.getInt(p),
                b.getInt(p + 4),
                b.getLong(p + 8),
                b.getLong(p + 16),
                b.getInt(p + 24),
                b.getInt(p + 28),
                b.getInt(p + 32),
                Short.toUnsignedInt(b.getShort(p + 36)));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putInt(p, len);
        b.putInt(p + 4, opcode);
        b.putLong(p + 8, unique);
        b.putLong(p + 16, nodeid);
        b.putInt(p + 24, uid);
        b.putInt(p + 28, gid);
        b.putInt(p + 32, pid);
        b.putShort(p + 36, (short) totalExtlen);
        b.putShort(p + 38, (short) 0);
    }
}
